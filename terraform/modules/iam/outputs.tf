output "role_arn" {
  description = "The jobs' role."
  value       = aws_iam_role.jobs.arn
}

output "instance_profile_name" {
  description = "Instance profile for the tweetlake host (kafka.app_instance_profile)."
  value       = aws_iam_instance_profile.jobs.name
}

output "policy_json" {
  description = "The jobs' policy document, for review."
  value       = data.aws_iam_policy_document.jobs.json
}
