variable "name" {
  description = "Prefix of every resource name."
  type        = string
}

variable "vpc_cidr" {
  description = "The VPC's IPv4 range (cluster_layout validated it)."
  type        = string
}

variable "private_subnets" {
  description = "AZ => CIDR for the private subnets (cluster_layout.private_subnets)."
  type        = map(string)
}

variable "public_subnets" {
  description = "AZ => CIDR for the public subnets (cluster_layout.public_subnets)."
  type        = map(string)
}

variable "ssh_cidr" {
  description = "The one range SSH is opened to (an office or VPN), e.g. 203.0.113.0/24."
  type        = string

  validation {
    condition     = can(cidrhost(var.ssh_cidr, 0)) && var.ssh_cidr != "0.0.0.0/0"
    error_message = "ssh_cidr must be an IPv4 CIDR block narrower than 0.0.0.0/0, e.g. 203.0.113.0/24."
  }
}

variable "ports" {
  description = "Kafka listener ports (cluster_layout.ports)."
  type = object({
    client     = number
    client_tls = number
    inter      = number
    controller = number
  })
}

variable "nat_gateways" {
  description = "NAT gateways for the private subnets' outbound traffic (package mirrors, S3 via endpoint regardless): 1 (cheaper) or 3 (one per AZ, survives an AZ outage)."
  type        = number
  default     = 1

  validation {
    condition     = contains([1, 3], var.nat_gateways)
    error_message = "nat_gateways must be 1 or 3."
  }
}

variable "kms_key_arn" {
  description = "KMS key that encrypts the flow-log group (lake.kms_key_arn; its policy lets CloudWatch Logs use it)."
  type        = string
}

variable "flow_log_retention_days" {
  description = "Days VPC flow logs are kept in CloudWatch (a year, for incident response)."
  type        = number
  default     = 365
}

variable "tags" {
  description = "Tags on every resource."
  type        = map(string)
  default     = {}
}
