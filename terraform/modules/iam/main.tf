# The role the tweetlake host runs as: read and write only the lake's prefix, use only the lake's
# key (through S3), register tables only in its own Glue database, query only in its workgroup.

data "aws_caller_identity" "current" {}
data "aws_region" "current" {}
data "aws_partition" "current" {}

locals {
  account     = data.aws_caller_identity.current.account_id
  region      = data.aws_region.current.name
  partition   = data.aws_partition.current.partition
  glue_prefix = "arn:${local.partition}:glue:${local.region}:${local.account}"
  # MSK ARNs: cluster/<name>/<uuid> → topic/<name>/<uuid>/* and group/<name>/<uuid>/*
  msk_parts = var.msk_cluster_arn == null ? [] : split("/", var.msk_cluster_arn)
  msk_base  = var.msk_cluster_arn == null ? "" : replace(split("/", var.msk_cluster_arn)[0], ":cluster", "")
}

data "aws_iam_policy_document" "assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["ec2.amazonaws.com"]
    }
  }
}

data "aws_iam_policy_document" "jobs" {
  statement {
    sid       = "ListLakePrefix"
    actions   = ["s3:ListBucket"]
    resources = [var.bucket_arn]
    condition {
      test     = "StringLike"
      variable = "s3:prefix"
      values   = ["${var.lake_prefix}/*", "${var.results_prefix}/*"]
    }
  }
  statement {
    sid = "ReadWriteLakeObjects"
    # Delta commits need PutObject with If-None-Match; vacuum needs DeleteObject.
    actions = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"]
    resources = [
      "${var.bucket_arn}/${var.lake_prefix}/*",
      "${var.bucket_arn}/${var.results_prefix}/*",
    ]
  }
  statement {
    sid       = "UseLakeKeyThroughS3"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey", "kms:Encrypt"]
    resources = [var.kms_key_arn]
    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = ["s3.${local.region}.amazonaws.com", "athena.${local.region}.amazonaws.com", "glue.${local.region}.amazonaws.com"]
    }
  }
  statement {
    sid = "OwnGlueDatabase"
    actions = [
      "glue:GetDatabase", "glue:GetTable", "glue:GetTables", "glue:CreateTable", "glue:UpdateTable",
      "glue:DeleteTable", "glue:GetPartition", "glue:GetPartitions", "glue:BatchCreatePartition",
      "glue:BatchDeletePartition",
    ]
    resources = [
      "${local.glue_prefix}:catalog",
      "${local.glue_prefix}:database/${var.glue_database_name}",
      "${local.glue_prefix}:table/${var.glue_database_name}/*",
    ]
  }
  statement {
    sid = "OwnAthenaWorkgroup"
    actions = [
      "athena:StartQueryExecution", "athena:GetQueryExecution", "athena:GetQueryResults",
      "athena:StopQueryExecution", "athena:GetWorkGroup",
    ]
    resources = [var.athena_workgroup_arn]
  }
  dynamic "statement" {
    for_each = var.msk_cluster_arn == null ? [] : [1]
    content {
      sid = "OwnMskCluster"
      actions = [
        "kafka-cluster:Connect", "kafka-cluster:DescribeCluster",
        "kafka-cluster:DescribeTopic", "kafka-cluster:ReadData", "kafka-cluster:WriteData",
        "kafka-cluster:DescribeGroup", "kafka-cluster:AlterGroup",
      ]
      resources = [
        var.msk_cluster_arn,
        "${local.msk_base}:topic/${local.msk_parts[1]}/${local.msk_parts[2]}/*",
        "${local.msk_base}:group/${local.msk_parts[1]}/${local.msk_parts[2]}/*",
      ]
    }
  }
}

resource "aws_iam_role" "jobs" {
  name               = "${var.name}-jobs"
  description        = "tweetlake ingester and promotion jobs"
  assume_role_policy = data.aws_iam_policy_document.assume.json
  tags               = var.tags
}

resource "aws_iam_policy" "jobs" {
  name        = "${var.name}-jobs"
  description = "tweetlake: the lake prefix, its key, its Glue database and Athena workgroup"
  policy      = data.aws_iam_policy_document.jobs.json
  tags        = var.tags
}

resource "aws_iam_role_policy_attachment" "jobs" {
  role       = aws_iam_role.jobs.name
  policy_arn = aws_iam_policy.jobs.arn
}

resource "aws_iam_role_policy_attachment" "ssm" {
  role       = aws_iam_role.jobs.name
  policy_arn = "arn:${local.partition}:iam::aws:policy/AmazonSSMManagedInstanceCore"
}

resource "aws_iam_instance_profile" "jobs" {
  name = "${var.name}-jobs"
  role = aws_iam_role.jobs.name
  tags = var.tags
}
