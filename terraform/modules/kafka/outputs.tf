output "node_instance_ids" {
  description = "Node name => EC2 instance id (flavor = ec2)."
  value       = { for k, i in aws_instance.node : k => i.id }
}

output "data_volume_ids" {
  description = "Broker name => data volume id; Ansible finds the disk by this id's NVMe serial."
  value       = { for k, v in aws_ebs_volume.data : k => v.id }
}

output "app_instance_id" {
  description = "EC2 instance id of the tweetlake host."
  value       = aws_instance.app.id
}

output "msk_cluster_arn" {
  description = "The MSK cluster (flavor = msk), else null."
  value       = try(aws_msk_cluster.this[0].arn, null)
}

output "msk_bootstrap_brokers" {
  description = "MSK bootstrap list for the chosen auth: SASL/IAM or SASL/SCRAM over TLS (flavor = msk), else null."
  value = try(
    var.msk.client_auth == "iam" ? aws_msk_cluster.this[0].bootstrap_brokers_sasl_iam : aws_msk_cluster.this[0].bootstrap_brokers_sasl_scram,
    null
  )
}
