variable "name" {
  description = "Prefix of every resource name."
  type        = string
}

variable "bucket_name" {
  description = "The lake bucket's globally unique name."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.bucket_name)) && !can(regex("\\.\\.", var.bucket_name))
    error_message = "bucket_name must be 3-63 characters of lower-case letters, digits, '.' and '-', starting and ending with a letter or digit."
  }
}

variable "lake_prefix" {
  description = "Key prefix of the lake inside the bucket (tweetlake's lake.root = s3://<bucket>/<prefix>)."
  type        = string
  default     = "lake"

  validation {
    condition     = can(regex("^[a-z0-9_-]+(/[a-z0-9_-]+)*$", var.lake_prefix))
    error_message = "lake_prefix must be a key prefix without leading or trailing '/', e.g. lake or prod/lake."
  }
}

variable "noncurrent_version_days" {
  description = "Days a replaced or deleted object version is kept (Delta vacuum deletes; versioning keeps them for recovery)."
  type        = number
  default     = 30
}

variable "bronze_ia_days" {
  description = "Days after which bronze data files move to S3 Standard-IA (0: never). Bronze is read once by silver, then only by a full refresh."
  type        = number
  default     = 90

  validation {
    condition     = var.bronze_ia_days == 0 || var.bronze_ia_days >= 30
    error_message = "bronze_ia_days must be 0 (off) or at least 30 (S3's minimum for Standard-IA)."
  }
}

variable "access_log_days" {
  description = "Days S3 server access logs are kept."
  type        = number
  default     = 365
}

variable "force_destroy" {
  description = "Let `terraform destroy` delete a non-empty bucket (never in production)."
  type        = bool
  default     = false
}

variable "tags" {
  description = "Tags on every resource."
  type        = map(string)
  default     = {}
}
