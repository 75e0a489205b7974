output "ansible_inventory" {
  description = "Write it out for Ansible: terraform output -raw ansible_inventory > ../../../ansible/inventory/dev.yml"
  value       = module.layout.ansible_inventory
}

output "bootstrap_servers" {
  description = "Kafka bootstrap list for tweetlake (EC2 flavor), or MSK's."
  value       = var.kafka_flavor == "msk" ? module.kafka.msk_bootstrap_brokers : module.layout.bootstrap_servers
}

output "quorum_voters" {
  description = "controller.quorum.voters of the EC2 cluster."
  value       = module.layout.quorum_voters
}

output "lake_root" {
  description = "tweetlake's lake.root."
  value       = module.lake.lake_root
}

output "glue_database" {
  description = "Glue database for `tweetlake catalog ddl --engine athena`."
  value       = module.catalog.database_name
}

output "athena_workgroup" {
  description = "Athena workgroup."
  value       = module.catalog.workgroup_name
}
