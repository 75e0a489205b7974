variable "name" {
  description = "Prefix of the role's name."
  type        = string
}

variable "bucket_arn" {
  description = "The lake bucket (lake.bucket_arn)."
  type        = string
}

variable "lake_prefix" {
  description = "The lake's key prefix (lake.lake_prefix): the only keys the jobs may read or write."
  type        = string
}

variable "results_prefix" {
  description = "Athena results prefix in the same bucket (catalog)."
  type        = string
  default     = "athena-results"
}

variable "kms_key_arn" {
  description = "The lake's KMS key."
  type        = string
}

variable "glue_database_name" {
  description = "The Glue database (catalog.database_name); tables only in it."
  type        = string
}

variable "athena_workgroup_arn" {
  description = "The Athena workgroup (catalog.workgroup_arn); queries only in it."
  type        = string
}

variable "msk_cluster_arn" {
  description = "An MSK cluster with IAM auth (kafka.msk_cluster_arn) the jobs may produce to and consume from; null for Kafka on EC2."
  type        = string
  default     = null
}

variable "tags" {
  description = "Tags on every resource."
  type        = map(string)
  default     = {}
}
