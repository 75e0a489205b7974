# The cluster's shape, computed once and shared: which node runs what, its id, its subnet and
# availability zone, the KRaft quorum string, and the subnet ranges. The network and kafka modules
# and the Ansible inventory all read it from here, so they cannot disagree.

locals {
  prefix = tonumber(split("/", var.vpc_cidr)[1])

  # Six equal subnets out of the VPC: private 0-2 (one per AZ, brokers and controllers) and
  # public 3-5 (NAT gateways / bastion). 3 extra bits = eight slots, two left for growth.
  subnet_cidrs = [for i in range(6) : cidrsubnet(var.vpc_cidr, 3, i)]
  private_subnets = {
    for i, az in var.availability_zones : az => local.subnet_cidrs[i]
  }
  public_subnets = {
    for i, az in var.availability_zones : az => local.subnet_cidrs[i + 3]
  }

  separate = var.controller_mode == "separate"

  brokers = [
    for i in range(var.broker_count) : {
      name    = format("%s-kafka-%d", var.name, i + 1)
      node_id = var.first_node_id + i
      # process.roles: in combined mode the first controller_count brokers also vote.
      roles = (!local.separate && i < var.controller_count) ? ["broker", "controller"] : ["broker"]
      az    = var.availability_zones[i % 3]
      # Ten addresses in, so AWS's reserved first four never collide.
      private_ip = cidrhost(local.private_subnets[var.availability_zones[i % 3]], 10 + floor(i / 3))
    }
  ]

  dedicated_controllers = local.separate ? [
    for i in range(var.controller_count) : {
      name       = format("%s-controller-%d", var.name, i + 1)
      node_id    = var.first_node_id + var.broker_count + i
      roles      = ["controller"]
      az         = var.availability_zones[i % 3]
      private_ip = cidrhost(local.private_subnets[var.availability_zones[i % 3]], 20 + floor(i / 3))
    }
  ] : []

  # The host that runs tweetlake (ingester and scheduled jobs), in the first AZ.
  app = {
    name       = format("%s-app-1", var.name)
    az         = var.availability_zones[0]
    private_ip = cidrhost(local.private_subnets[var.availability_zones[0]], 25)
  }

  nodes       = concat(local.brokers, local.dedicated_controllers)
  controllers = [for n in local.nodes : n if contains(n.roles, "controller")]

  # controller.quorum.voters: id@host:port for every voter, identical on every node.
  quorum_voters = join(",", [
    for c in local.controllers : format("%d@%s:%d", c.node_id, c.private_ip, var.ports.controller)
  ])
  bootstrap_servers = join(",", [
    for b in local.brokers : format("%s:%d", b.private_ip, var.ports.client)
  ])
  # The TLS (SASL_SSL with SCRAM) listener: what clients use once the Kafka role turns TLS on.
  bootstrap_servers_tls = join(",", [
    for b in local.brokers : format("%s:%d", b.private_ip, var.ports.client_tls)
  ])
}

# The Ansible inventory (ansible/inventory/*.yml shape): `terraform output -raw ansible_inventory`.
locals {
  host_vars = {
    for n in local.nodes : n.name => {
      ansible_host        = n.private_ip
      kafka_node_id       = n.node_id
      kafka_process_roles = n.roles
      kafka_rack          = n.az
    }
  }
  inventory = {
    all = {
      vars = {
        kafka_controller_quorum_voters = local.quorum_voters
        kafka_bootstrap_servers        = local.bootstrap_servers
        kafka_bootstrap_servers_tls    = local.bootstrap_servers_tls
        kafka_default_replication      = var.replication_factor
        kafka_min_insync_replicas      = var.min_insync_replicas
      }
      children = {
        kafka = {
          hosts = local.host_vars
        }
        tweetlake = {
          hosts = {
            (local.app.name) = { ansible_host = local.app.private_ip }
          }
        }
      }
    }
  }
}
