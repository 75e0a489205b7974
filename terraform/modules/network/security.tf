# Kafka's ports open only inside the VPC; SSH only from var.ssh_cidr. Every rule has a
# description so an auditor can tell why it exists.

resource "aws_security_group" "kafka" {
  # checkov:skip=CKV2_AWS_5: attached to the Kafka instances (or MSK) by the kafka module, through its variables
  name        = "${var.name}-kafka"
  description = "Kafka brokers and KRaft controllers"
  vpc_id      = aws_vpc.this.id
  tags        = merge(var.tags, { Name = "${var.name}-kafka" })
}

resource "aws_security_group" "app" {
  # checkov:skip=CKV2_AWS_5: attached to the tweetlake host by the kafka module, through its variables
  name        = "${var.name}-app"
  description = "tweetlake ingester, promotion jobs and SQL endpoint"
  vpc_id      = aws_vpc.this.id
  tags        = merge(var.tags, { Name = "${var.name}-app" })
}

locals {
  # Client listeners: reachable from anywhere in the VPC (producers, tweetlake, tools).
  kafka_vpc_ports = {
    client     = var.ports.client
    client_tls = var.ports.client_tls
  }
  # Broker-to-broker and quorum traffic: only between Kafka nodes.
  kafka_peer_ports = {
    inter      = var.ports.inter
    controller = var.ports.controller
  }
}

resource "aws_vpc_security_group_ingress_rule" "kafka_clients" {
  for_each          = local.kafka_vpc_ports
  security_group_id = aws_security_group.kafka.id
  description       = "Kafka ${each.key} listener from inside the VPC"
  cidr_ipv4         = var.vpc_cidr
  ip_protocol       = "tcp"
  from_port         = each.value
  to_port           = each.value
}

resource "aws_vpc_security_group_ingress_rule" "kafka_peers" {
  for_each                     = local.kafka_peer_ports
  security_group_id            = aws_security_group.kafka.id
  description                  = "Kafka ${each.key} listener between Kafka nodes"
  referenced_security_group_id = aws_security_group.kafka.id
  ip_protocol                  = "tcp"
  from_port                    = each.value
  to_port                      = each.value
}

resource "aws_vpc_security_group_ingress_rule" "ssh" {
  for_each          = { kafka = aws_security_group.kafka.id, app = aws_security_group.app.id }
  security_group_id = each.value
  description       = "SSH from the operators' range"
  cidr_ipv4         = var.ssh_cidr
  ip_protocol       = "tcp"
  from_port         = 22
  to_port           = 22
}

resource "aws_vpc_security_group_ingress_rule" "app_sql" {
  security_group_id = aws_security_group.app.id
  description       = "tweetlake serve (Postgres wire, dashboards, /metrics) from inside the VPC"
  cidr_ipv4         = var.vpc_cidr
  ip_protocol       = "tcp"
  from_port         = 5433
  to_port           = 5434
}

# Egress: anything inside the VPC, and HTTPS out (S3 and other AWS APIs, OS packages, the
# Kafka archive) - nothing else leaves.
resource "aws_vpc_security_group_egress_rule" "in_vpc" {
  for_each          = { kafka = aws_security_group.kafka.id, app = aws_security_group.app.id }
  security_group_id = each.value
  description       = "Any TCP inside the VPC"
  cidr_ipv4         = var.vpc_cidr
  ip_protocol       = "tcp"
  from_port         = 0
  to_port           = 65535
}

resource "aws_vpc_security_group_egress_rule" "https" {
  for_each          = { kafka = aws_security_group.kafka.id, app = aws_security_group.app.id }
  security_group_id = each.value
  description       = "HTTPS to AWS APIs, package mirrors and the Apache archive"
  cidr_ipv4         = "0.0.0.0/0"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
}
