variable "name" {
  description = "Cluster name: prefixes hostnames and tags."
  type        = string
  default     = "tweetlake"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,30}$", var.name))
    error_message = "name must be 2-31 characters of lower-case letters, digits and '-', starting with a letter."
  }
}

variable "vpc_cidr" {
  description = "The VPC's IPv4 range; subnets are carved from it (a /16 to /24)."
  type        = string
  default     = "10.40.0.0/16"

  validation {
    condition     = can(cidrhost(var.vpc_cidr, 0)) && can(regex("^[0-9.]+/[0-9]+$", var.vpc_cidr))
    error_message = "vpc_cidr must be an IPv4 CIDR block such as 10.40.0.0/16."
  }

  validation {
    condition     = !can(cidrhost(var.vpc_cidr, 0)) || (tonumber(split("/", var.vpc_cidr)[1]) >= 16 && tonumber(split("/", var.vpc_cidr)[1]) <= 24)
    error_message = "vpc_cidr must be between a /16 and a /24 (AWS allows VPCs of /16 to /28; six /3-smaller subnets need room)."
  }
}

variable "availability_zones" {
  description = "Exactly three availability zones; brokers and subnets are spread over them in order."
  type        = list(string)

  validation {
    condition     = length(var.availability_zones) == 3 && length(distinct(var.availability_zones)) == 3
    error_message = "availability_zones must list three distinct zones, e.g. [\"eu-west-1a\", \"eu-west-1b\", \"eu-west-1c\"]."
  }
}

variable "broker_count" {
  description = "Kafka brokers (EC2 instances, or MSK broker nodes)."
  type        = number
  default     = 3

  validation {
    condition     = var.broker_count >= 1 && var.broker_count <= 30 && floor(var.broker_count) == var.broker_count
    error_message = "broker_count must be a whole number from 1 to 30."
  }
}

variable "controller_mode" {
  description = "\"combined\": every broker is also a KRaft controller; \"separate\": dedicated controller nodes."
  type        = string
  default     = "combined"

  validation {
    condition     = contains(["combined", "separate"], var.controller_mode)
    error_message = "controller_mode must be \"combined\" or \"separate\"."
  }
}

variable "controller_count" {
  description = "KRaft controllers: 3 or 5 (a quorum tolerates (n-1)/2 failures). With combined mode, the first controller_count brokers vote."
  type        = number
  default     = 3

  validation {
    condition     = contains([3, 5], var.controller_count)
    error_message = "controller_count must be 3 or 5: an even quorum tolerates no more failures than the odd one below it."
  }

  validation {
    condition     = var.controller_mode == "separate" || var.controller_count <= var.broker_count
    error_message = "controller_count is above broker_count in combined mode: every controller is a broker there. Use controller_mode = \"separate\" or more brokers."
  }
}

variable "replication_factor" {
  description = "default.replication.factor and the tweet topics' replication."
  type        = number
  default     = 3

  validation {
    condition     = var.replication_factor >= 1 && floor(var.replication_factor) == var.replication_factor
    error_message = "replication_factor must be a whole number of at least 1."
  }

  validation {
    condition     = var.replication_factor <= var.broker_count
    error_message = "replication_factor is above broker_count: a topic cannot have more replicas than there are brokers. Raise broker_count or lower replication_factor."
  }
}

variable "min_insync_replicas" {
  description = "min.insync.replicas: with acks=all, writes need this many replicas in sync."
  type        = number
  default     = 2

  validation {
    condition     = var.min_insync_replicas >= 1 && var.min_insync_replicas <= var.replication_factor
    error_message = "min_insync_replicas must be from 1 to replication_factor."
  }

  validation {
    condition     = var.replication_factor < 2 || var.min_insync_replicas < var.replication_factor
    error_message = "min_insync_replicas equals replication_factor: one broker down would stop every acks=all write. Use replication_factor - 1."
  }
}

variable "first_node_id" {
  description = "node.id of the first broker; controllers in separate mode follow the brokers."
  type        = number
  default     = 1

  validation {
    condition     = var.first_node_id >= 0 && floor(var.first_node_id) == var.first_node_id
    error_message = "first_node_id must be a whole number of at least 0."
  }
}

variable "ports" {
  description = "Kafka listener ports."
  type = object({
    client     = optional(number, 9092)
    client_tls = optional(number, 9094)
    inter      = optional(number, 9093)
    controller = optional(number, 9095)
  })
  default = {}
}
