variable "region" {
  description = "AWS region, e.g. eu-west-1."
  type        = string
}

variable "availability_zones" {
  description = "Three zones of the region, e.g. [\"eu-west-1a\", \"eu-west-1b\", \"eu-west-1c\"]."
  type        = list(string)
}

variable "environment" {
  description = "Environment name: tags and resource names."
  type        = string
  default     = "dev"
}

variable "name" {
  description = "Name prefix of every resource."
  type        = string
  default     = "tweetlake"
}

variable "vpc_cidr" {
  description = "The VPC's range."
  type        = string
  default     = "10.40.0.0/16"
}

variable "ssh_cidr" {
  description = "The one range SSH is open to (office or VPN)."
  type        = string
}

variable "ssh_key_name" {
  description = "Existing EC2 key pair Ansible logs in with."
  type        = string
}

variable "kafka_flavor" {
  description = "\"ec2\" (Apache Kafka on EC2, configured by Ansible) or \"msk\"."
  type        = string
  default     = "ec2"
}

variable "broker_count" {
  description = "Kafka brokers."
  type        = number
  default     = 3
}

variable "controller_mode" {
  description = "\"combined\" or \"separate\" KRaft controllers."
  type        = string
  default     = "combined"
}

variable "replication_factor" {
  description = "Replication of every topic."
  type        = number
  default     = 3
}

variable "min_insync_replicas" {
  description = "min.insync.replicas."
  type        = number
  default     = 2
}

variable "broker_instance_type" {
  description = "EC2 type of the brokers."
  type        = string
  default     = "m7i.large"
}

variable "data_volume_gb" {
  description = "gp3 data volume per broker."
  type        = number
  default     = 500
}

variable "lake_bucket" {
  description = "Globally unique name of the lake bucket."
  type        = string
}

variable "extra_tags" {
  description = "Tags added to every resource (cost centre, owner)."
  type        = map(string)
  default     = {}
}
