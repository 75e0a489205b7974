# `terraform test` (offline: this module has no provider).

variables {
  availability_zones = ["eu-west-1a", "eu-west-1b", "eu-west-1c"]
}

run "three_combined_brokers" {
  command = plan

  assert {
    condition     = [for n in output.nodes : n.node_id] == [1, 2, 3]
    error_message = "three distinct node ids 1..3 expected"
  }
  assert {
    condition     = output.quorum_voters == "1@10.40.0.10:9095,2@10.40.32.10:9095,3@10.40.64.10:9095"
    error_message = "unexpected quorum string: ${output.quorum_voters}"
  }
  assert {
    condition     = alltrue([for n in output.nodes : join(",", n.roles) == "broker,controller"])
    error_message = "every broker votes in combined mode with three brokers"
  }
  assert {
    condition     = join(",", [for n in output.nodes : n.az]) == join(",", var.availability_zones)
    error_message = "brokers spread one per zone"
  }
  assert {
    condition     = output.private_subnets["eu-west-1b"] == "10.40.32.0/19" && output.public_subnets["eu-west-1a"] == "10.40.96.0/19"
    error_message = "subnets are the /19s of the /16, private first"
  }
  assert {
    condition     = output.bootstrap_servers == "10.40.0.10:9092,10.40.32.10:9092,10.40.64.10:9092"
    error_message = "unexpected bootstrap list: ${output.bootstrap_servers}"
  }
  assert {
    condition     = yamldecode(output.ansible_inventory).all.vars.kafka_bootstrap_servers_tls == "10.40.0.10:9094,10.40.32.10:9094,10.40.64.10:9094"
    error_message = "the inventory carries the TLS bootstrap list"
  }
  assert {
    condition     = yamldecode(output.ansible_inventory).all.children.kafka.hosts["tweetlake-kafka-2"].kafka_node_id == 2
    error_message = "the inventory carries each broker's node id"
  }
  assert {
    condition     = yamldecode(output.ansible_inventory).all.vars.kafka_controller_quorum_voters == output.quorum_voters
    error_message = "the inventory carries the quorum string"
  }
}

run "six_brokers_three_vote" {
  command = plan
  variables {
    broker_count = 6
  }

  assert {
    condition     = length([for n in output.nodes : n if contains(n.roles, "controller")]) == 3
    error_message = "only the first three brokers vote"
  }
  assert {
    condition     = output.nodes[3].private_ip == "10.40.0.11" && output.nodes[3].az == "eu-west-1a"
    error_message = "the fourth broker is the second host of the first zone"
  }
  assert {
    condition     = length(distinct([for n in output.nodes : n.private_ip])) == 6
    error_message = "addresses are distinct"
  }
}

run "separate_controllers" {
  command = plan
  variables {
    controller_mode = "separate"
  }

  assert {
    condition     = [for n in output.nodes : n.node_id] == [1, 2, 3, 4, 5, 6]
    error_message = "controllers take the ids after the brokers"
  }
  assert {
    condition     = output.quorum_voters == "4@10.40.0.20:9095,5@10.40.32.20:9095,6@10.40.64.20:9095"
    error_message = "only dedicated controllers vote: ${output.quorum_voters}"
  }
  assert {
    condition     = alltrue([for b in output.brokers : join(",", b.roles) == "broker"])
    error_message = "brokers do not vote in separate mode"
  }
}

run "small_vpc" {
  command = plan
  variables {
    vpc_cidr = "192.168.7.0/24"
  }

  assert {
    condition     = output.private_subnets["eu-west-1c"] == "192.168.7.64/27"
    error_message = "a /24 splits into /27s"
  }
}

run "replication_above_brokers_is_refused" {
  command = plan
  variables {
    broker_count       = 2
    controller_count   = 3
    controller_mode    = "separate"
    replication_factor = 3
  }
  expect_failures = [var.replication_factor]
}

run "invalid_cidr_is_refused" {
  command = plan
  variables {
    vpc_cidr = "10.40.0.0/33"
  }
  expect_failures = [var.vpc_cidr]
}

run "min_isr_equal_to_replication_is_refused" {
  command = plan
  variables {
    min_insync_replicas = 3
  }
  expect_failures = [var.min_insync_replicas]
}

run "two_zones_are_refused" {
  command = plan
  variables {
    availability_zones = ["eu-west-1a", "eu-west-1b"]
  }
  expect_failures = [var.availability_zones]
}
