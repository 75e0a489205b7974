locals {
  name = "${var.name}-${var.environment}"
  tags = merge({
    Project     = "tweetlake"
    Environment = var.environment
    ManagedBy   = "terraform"
  }, var.extra_tags)
}

module "layout" {
  source              = "../../modules/cluster_layout"
  name                = local.name
  vpc_cidr            = var.vpc_cidr
  availability_zones  = var.availability_zones
  broker_count        = var.broker_count
  controller_mode     = var.controller_mode
  replication_factor  = var.replication_factor
  min_insync_replicas = var.min_insync_replicas
}

module "network" {
  source          = "../../modules/network"
  name            = local.name
  vpc_cidr        = var.vpc_cidr
  private_subnets = module.layout.private_subnets
  public_subnets  = module.layout.public_subnets
  ports           = module.layout.ports
  ssh_cidr        = var.ssh_cidr
  kms_key_arn     = module.lake.kms_key_arn
  tags            = local.tags
}

module "lake" {
  source      = "../../modules/lake"
  name        = local.name
  bucket_name = var.lake_bucket
  tags        = local.tags
}

module "catalog" {
  source      = "../../modules/catalog"
  name        = local.name
  bucket      = module.lake.bucket
  lake_prefix = module.lake.lake_prefix
  kms_key_arn = module.lake.kms_key_arn
  tags        = local.tags
}

module "kafka" {
  source                  = "../../modules/kafka"
  name                    = local.name
  flavor                  = var.kafka_flavor
  nodes                   = module.layout.nodes
  app                     = module.layout.app
  broker_count            = var.broker_count
  subnet_ids              = module.network.private_subnet_ids
  kafka_security_group_id = module.network.kafka_security_group_id
  app_security_group_id   = module.network.app_security_group_id
  instance_type           = var.broker_instance_type
  data_volume_gb          = var.data_volume_gb
  ssh_key_name            = var.ssh_key_name
  app_instance_profile    = module.iam.instance_profile_name
  kms_key_arn             = module.lake.kms_key_arn
  tags                    = local.tags
}

module "iam" {
  source               = "../../modules/iam"
  name                 = local.name
  bucket_arn           = module.lake.bucket_arn
  lake_prefix          = module.lake.lake_prefix
  kms_key_arn          = module.lake.kms_key_arn
  glue_database_name   = module.catalog.database_name
  athena_workgroup_arn = module.catalog.workgroup_arn
  msk_cluster_arn      = null # set to module.kafka.msk_cluster_arn with kafka_flavor = "msk" (IAM auth)
  tags                 = local.tags
}
