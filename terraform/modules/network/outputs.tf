output "vpc_id" {
  description = "The VPC."
  value       = aws_vpc.this.id
}

output "private_subnet_ids" {
  description = "AZ => private subnet id."
  value       = { for az, s in aws_subnet.private : az => s.id }
}

output "public_subnet_ids" {
  description = "AZ => public subnet id."
  value       = { for az, s in aws_subnet.public : az => s.id }
}

output "kafka_security_group_id" {
  description = "Security group of the Kafka nodes."
  value       = aws_security_group.kafka.id
}

output "app_security_group_id" {
  description = "Security group of the tweetlake host."
  value       = aws_security_group.app.id
}
