variable "name" {
  description = "Prefix of the workgroup's name."
  type        = string
}

variable "database_name" {
  description = "Glue database the lake's tables are registered in (`tweetlake catalog ddl --engine athena`)."
  type        = string
  default     = "tweetlake"

  validation {
    condition     = can(regex("^[a-z][a-z0-9_]{0,254}$", var.database_name))
    error_message = "database_name must be lower_snake_case (Athena and Glue fold names to lower case)."
  }
}

variable "bucket" {
  description = "The lake bucket (lake.bucket); Athena's results go under results_prefix in it."
  type        = string
}

variable "lake_prefix" {
  description = "The lake's key prefix (lake.lake_prefix)."
  type        = string
}

variable "results_prefix" {
  description = "Key prefix of Athena query results in the lake bucket."
  type        = string
  default     = "athena-results"
}

variable "kms_key_arn" {
  description = "KMS key for query results and the Glue catalog's encryption (lake.kms_key_arn)."
  type        = string
}

variable "bytes_scanned_cutoff" {
  description = "Per-query scan limit in bytes (Athena bills per byte scanned); default 100 GB."
  type        = number
  default     = 107374182400
}

variable "tags" {
  description = "Tags on every resource."
  type        = map(string)
  default     = {}
}
