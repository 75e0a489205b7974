# Apache Kafka on EC2 (flavor = "ec2"): one instance per node at the address cluster_layout chose,
# a gp3 data volume per broker, IMDSv2 only, encrypted disks. Ansible installs Kafka on them.

data "aws_ami" "debian" {
  count       = var.ami_id == "" ? 1 : 0
  most_recent = true
  owners      = [var.ami_owner]
  filter {
    name   = "name"
    values = [var.ami_name_pattern]
  }
  filter {
    name   = "architecture"
    values = ["x86_64"]
  }
}

locals {
  ec2     = var.flavor == "ec2"
  ami     = var.ami_id != "" ? var.ami_id : try(data.aws_ami.debian[0].id, "")
  nodes   = local.ec2 ? { for n in var.nodes : n.name => n } : {}
  brokers = { for k, n in local.nodes : k => n if contains(n.roles, "broker") }
}

data "aws_iam_policy_document" "assume_ec2" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["ec2.amazonaws.com"]
    }
  }
}

# Brokers need no AWS API beyond Systems Manager (for operators without SSH).
resource "aws_iam_role" "kafka" {
  count              = local.ec2 ? 1 : 0
  name               = "${var.name}-kafka-node"
  assume_role_policy = data.aws_iam_policy_document.assume_ec2.json
  tags               = var.tags
}

resource "aws_iam_role_policy_attachment" "kafka_ssm" {
  count      = local.ec2 ? 1 : 0
  role       = aws_iam_role.kafka[0].name
  policy_arn = "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"
}

resource "aws_iam_instance_profile" "kafka" {
  count = local.ec2 ? 1 : 0
  name  = "${var.name}-kafka-node"
  role  = aws_iam_role.kafka[0].name
  tags  = var.tags
}

resource "aws_instance" "node" {
  for_each               = local.nodes
  ami                    = local.ami
  instance_type          = contains(each.value.roles, "broker") ? var.instance_type : var.controller_instance_type
  subnet_id              = var.subnet_ids[each.value.az]
  private_ip             = each.value.private_ip
  vpc_security_group_ids = [var.kafka_security_group_id]
  key_name               = var.ssh_key_name
  iam_instance_profile   = aws_iam_instance_profile.kafka[0].name
  ebs_optimized          = true
  monitoring             = true

  metadata_options {
    http_tokens   = "required"
    http_endpoint = "enabled"
  }

  root_block_device {
    volume_type = "gp3"
    volume_size = 30
    encrypted   = true
    kms_key_id  = var.kms_key_arn
  }

  tags = merge(var.tags, {
    Name          = each.key
    KafkaNodeId   = tostring(each.value.node_id)
    KafkaRoles    = join("+", each.value.roles)
    AnsibleGroups = "kafka"
  })

  lifecycle {
    # A newer AMI must not replace running brokers; roll them deliberately.
    ignore_changes = [ami]
  }
}

resource "aws_ebs_volume" "data" {
  for_each          = local.brokers
  availability_zone = each.value.az
  type              = "gp3"
  size              = var.data_volume_gb
  iops              = var.data_volume_iops
  throughput        = var.data_volume_throughput
  encrypted         = true
  kms_key_id        = var.kms_key_arn
  tags              = merge(var.tags, { Name = "${each.key}-data" })
}

resource "aws_volume_attachment" "data" {
  for_each    = local.brokers
  device_name = "/dev/sdf" # Ansible finds it by volume id (nvme serial), not by this name
  volume_id   = aws_ebs_volume.data[each.key].id
  instance_id = aws_instance.node[each.key].id
}

resource "aws_instance" "app" {
  ami                    = local.ami
  instance_type          = var.app_instance_type
  subnet_id              = var.subnet_ids[var.app.az]
  private_ip             = var.app.private_ip
  vpc_security_group_ids = [var.app_security_group_id]
  key_name               = var.ssh_key_name
  iam_instance_profile   = var.app_instance_profile
  ebs_optimized          = true
  monitoring             = true

  metadata_options {
    http_tokens   = "required"
    http_endpoint = "enabled"
  }

  root_block_device {
    volume_type = "gp3"
    volume_size = 50
    encrypted   = true
    kms_key_id  = var.kms_key_arn
  }

  tags = merge(var.tags, { Name = var.app.name, AnsibleGroups = "tweetlake" })

  lifecycle {
    ignore_changes = [ami]
  }
}
