terraform {
  required_version = ">= 1.9"
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.60, < 7.0"
    }
  }

  # Remote state, for a team: create the bucket and lock table once (versioned, encrypted), then
  # uncomment and run `terraform init -migrate-state`.
  # backend "s3" {
  #   bucket         = "my-org-terraform-state"
  #   key            = "tweetlake/dev/terraform.tfstate"
  #   region         = "eu-west-1"
  #   encrypt        = true
  #   use_lockfile   = true # S3-native locking (Terraform >= 1.10); or dynamodb_table = "terraform-locks"
  # }
}

provider "aws" {
  region = var.region
  default_tags {
    tags = local.tags
  }
}
