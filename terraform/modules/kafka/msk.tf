# Amazon MSK in KRaft mode (flavor = "msk"): TLS in transit, KMS at rest, IAM or SASL/SCRAM
# client auth, broker logs to CloudWatch. The tweetlake host still comes from ec2.tf.

locals {
  msk   = var.flavor == "msk"
  scram = local.msk && var.msk.client_auth == "scram"
}

resource "aws_cloudwatch_log_group" "msk" {
  count             = local.msk ? 1 : 0
  name              = "/${var.name}/msk-brokers"
  retention_in_days = 365
  kms_key_id        = var.kms_key_arn
  tags              = var.tags
}

resource "aws_msk_configuration" "this" {
  count          = local.msk ? 1 : 0
  name           = "${var.name}-kraft"
  kafka_versions = [var.msk.kafka_version]
  server_properties = join("\n", [
    "auto.create.topics.enable=false",
    "default.replication.factor=3",
    "min.insync.replicas=2",
    "unclean.leader.election.enable=false",
  ])
}

resource "aws_msk_cluster" "this" {
  count                  = local.msk ? 1 : 0
  cluster_name           = var.name
  kafka_version          = var.msk.kafka_version
  number_of_broker_nodes = var.broker_count
  enhanced_monitoring    = "PER_TOPIC_PER_BROKER"

  broker_node_group_info {
    instance_type   = var.msk.instance_type
    client_subnets  = values(var.subnet_ids)
    security_groups = [var.kafka_security_group_id]
    storage_info {
      ebs_storage_info {
        volume_size = var.data_volume_gb
      }
    }
    connectivity_info {
      public_access {
        type = "DISABLED"
      }
    }
  }

  configuration_info {
    arn      = aws_msk_configuration.this[0].arn
    revision = aws_msk_configuration.this[0].latest_revision
  }

  encryption_info {
    encryption_at_rest_kms_key_arn = var.kms_key_arn
    encryption_in_transit {
      client_broker = "TLS"
      in_cluster    = true
    }
  }

  client_authentication {
    unauthenticated = false
    sasl {
      iam   = var.msk.client_auth == "iam"
      scram = var.msk.client_auth == "scram"
    }
  }

  logging_info {
    broker_logs {
      cloudwatch_logs {
        enabled   = true
        log_group = aws_cloudwatch_log_group.msk[0].name
      }
    }
  }

  tags = var.tags

  lifecycle {
    precondition {
      condition     = var.broker_count % 3 == 0
      error_message = "MSK spreads brokers evenly over the three subnets: broker_count must be a multiple of 3."
    }
  }
}

# SASL/SCRAM: the tweetlake user's password lives in Secrets Manager under a name MSK accepts
# (AmazonMSK_ prefix, customer-managed key). Set its value out of band:
#   aws secretsmanager put-secret-value --secret-id AmazonMSK_<name>_tweetlake \
#     --secret-string '{"username":"tweetlake","password":"…"}'
resource "aws_secretsmanager_secret" "scram" {
  # checkov:skip=CKV2_AWS_57: the operator sets and rotates the SCRAM password together with the clients' config; a rotation Lambda could not update tweetlake's
  count      = local.scram ? 1 : 0
  name       = "AmazonMSK_${var.name}_tweetlake"
  kms_key_id = var.kms_key_arn
  tags       = var.tags
}

resource "aws_msk_scram_secret_association" "this" {
  count           = local.scram ? 1 : 0
  cluster_arn     = aws_msk_cluster.this[0].arn
  secret_arn_list = [aws_secretsmanager_secret.scram[0].arn]
}
