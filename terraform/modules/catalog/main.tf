# The Glue database tweetlake's tables are registered in and an Athena workgroup whose results are
# encrypted with the lake's key and whose settings clients cannot override.

resource "aws_glue_catalog_database" "lake" {
  name        = var.database_name
  description = "tweetlake medallion lake: bronze, silver and gold Delta tables"
}

resource "aws_athena_workgroup" "lake" {
  name          = "${var.name}-lake"
  description   = "Queries over the tweetlake lake"
  force_destroy = false

  configuration {
    enforce_workgroup_configuration    = true
    publish_cloudwatch_metrics_enabled = true
    bytes_scanned_cutoff_per_query     = var.bytes_scanned_cutoff

    engine_version {
      # Delta Lake tables need engine version 3.
      selected_engine_version = "Athena engine version 3"
    }

    result_configuration {
      output_location = "s3://${var.bucket}/${var.results_prefix}/"
      encryption_configuration {
        encryption_option = "SSE_KMS"
        kms_key_arn       = var.kms_key_arn
      }
    }
  }

  tags = var.tags
}
