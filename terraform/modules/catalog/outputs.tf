output "database_name" {
  description = "The Glue database."
  value       = aws_glue_catalog_database.lake.name
}

output "database_arn" {
  description = "The Glue database's ARN."
  value       = aws_glue_catalog_database.lake.arn
}

output "workgroup_name" {
  description = "The Athena workgroup."
  value       = aws_athena_workgroup.lake.name
}

output "workgroup_arn" {
  description = "The Athena workgroup's ARN."
  value       = aws_athena_workgroup.lake.arn
}

output "results_location" {
  description = "Where Athena writes query results."
  value       = "s3://${var.bucket}/${var.results_prefix}/"
}
