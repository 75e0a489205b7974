output "bucket" {
  description = "The lake bucket's name."
  value       = aws_s3_bucket.lake.id
}

output "bucket_arn" {
  description = "The lake bucket's ARN."
  value       = aws_s3_bucket.lake.arn
}

output "lake_root" {
  description = "tweetlake's lake.root for this bucket."
  value       = "s3://${aws_s3_bucket.lake.id}/${var.lake_prefix}"
}

output "lake_prefix" {
  description = "The lake's key prefix in the bucket."
  value       = var.lake_prefix
}

output "kms_key_arn" {
  description = "The lake's KMS key (also used for EBS volumes and logs)."
  value       = aws_kms_key.lake.arn
}
