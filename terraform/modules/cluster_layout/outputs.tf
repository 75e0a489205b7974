output "nodes" {
  description = "Every node: name, node_id, roles, az, private_ip. Brokers first, then dedicated controllers."
  value       = local.nodes
}

output "brokers" {
  description = "The nodes with the broker role."
  value       = local.brokers
}

output "controllers" {
  description = "The nodes that vote in the KRaft quorum."
  value       = local.controllers
}

output "quorum_voters" {
  description = "controller.quorum.voters, e.g. 1@10.40.0.10:9095,2@10.40.32.10:9095,3@10.40.64.10:9095."
  value       = local.quorum_voters
}

output "bootstrap_servers" {
  description = "Client bootstrap list (plaintext listener inside the VPC; gone when the Kafka role turns TLS on)."
  value       = local.bootstrap_servers
}

output "bootstrap_servers_tls" {
  description = "Client bootstrap list of the TLS (SASL_SSL) listener."
  value       = local.bootstrap_servers_tls
}

output "private_subnets" {
  description = "AZ => CIDR of the private subnet there."
  value       = local.private_subnets
}

output "public_subnets" {
  description = "AZ => CIDR of the public subnet there."
  value       = local.public_subnets
}

output "replication" {
  description = "Replication settings every broker and topic uses."
  value = {
    default_replication_factor = var.replication_factor
    min_insync_replicas        = var.min_insync_replicas
    # KRaft's internal topics follow the same rule.
    offsets_topic_replication_factor         = var.replication_factor
    transaction_state_log_replication_factor = var.replication_factor
    transaction_state_log_min_isr            = var.min_insync_replicas
  }
}

output "ports" {
  description = "Listener ports."
  value       = var.ports
}

output "app" {
  description = "The host that runs tweetlake: name, az, private_ip."
  value       = local.app
}

output "ansible_inventory" {
  description = "The Ansible inventory as YAML: brokers with node ids, roles and rack, the quorum string, the app host."
  value       = yamlencode(local.inventory)
}
