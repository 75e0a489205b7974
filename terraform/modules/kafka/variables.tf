variable "name" {
  description = "Prefix of every resource name."
  type        = string
}

variable "flavor" {
  description = "\"ec2\": Apache Kafka on EC2 instances that Ansible configures; \"msk\": Amazon MSK in KRaft mode."
  type        = string
  default     = "ec2"

  validation {
    condition     = contains(["ec2", "msk"], var.flavor)
    error_message = "flavor must be \"ec2\" or \"msk\"."
  }
}

variable "nodes" {
  description = "cluster_layout.nodes: name, node_id, roles, az, private_ip of every Kafka node."
  type = list(object({
    name       = string
    node_id    = number
    roles      = list(string)
    az         = string
    private_ip = string
  }))
}

variable "app" {
  description = "cluster_layout.app: the host that runs tweetlake."
  type = object({
    name       = string
    az         = string
    private_ip = string
  })
}

variable "subnet_ids" {
  description = "AZ => private subnet id (network.private_subnet_ids)."
  type        = map(string)
}

variable "kafka_security_group_id" {
  description = "network.kafka_security_group_id."
  type        = string
}

variable "app_security_group_id" {
  description = "network.app_security_group_id."
  type        = string
}

variable "instance_type" {
  description = "EC2 type of brokers (and combined controllers)."
  type        = string
  default     = "m7i.large"
}

variable "controller_instance_type" {
  description = "EC2 type of dedicated controllers (controller_mode = separate)."
  type        = string
  default     = "t3.medium"
}

variable "app_instance_type" {
  description = "EC2 type of the tweetlake host (NER runs here: 2+ vCPUs, bf16-capable types such as m7i are ~2x faster)."
  type        = string
  default     = "m7i.large"
}

variable "data_volume_gb" {
  description = "Size of each broker's gp3 data volume (log.dirs)."
  type        = number
  default     = 500

  validation {
    condition     = var.data_volume_gb >= 20 && var.data_volume_gb <= 16384
    error_message = "data_volume_gb must be from 20 to 16384 (gp3 limits)."
  }
}

variable "data_volume_iops" {
  description = "gp3 IOPS of each data volume (3000 is free)."
  type        = number
  default     = 3000
}

variable "data_volume_throughput" {
  description = "gp3 throughput (MB/s) of each data volume (125 is free)."
  type        = number
  default     = 250
}

variable "ami_id" {
  description = "AMI for every instance: a Debian 12 or Ubuntu 24.04 image (Ansible's roles target those). Empty: the latest official Debian 12 for x86_64."
  type        = string
  default     = ""
}

variable "ami_owner" {
  description = "Publisher account of the AMI looked up when ami_id is empty (default: Debian's official account)."
  type        = string
  default     = "136693071363"
}

variable "ami_name_pattern" {
  description = "Name pattern of the AMI looked up when ami_id is empty."
  type        = string
  default     = "debian-12-amd64-*"
}

variable "ssh_key_name" {
  description = "EC2 key pair for Ansible's SSH access."
  type        = string

  validation {
    condition     = length(var.ssh_key_name) > 0
    error_message = "ssh_key_name must name an existing EC2 key pair (Ansible logs in with it)."
  }
}

variable "app_instance_profile" {
  description = "Instance profile of the tweetlake host (iam.instance_profile_name): its access to the lake."
  type        = string
}

variable "kms_key_arn" {
  description = "KMS key that encrypts EBS volumes (and MSK storage)."
  type        = string
}

variable "msk" {
  description = "MSK settings (flavor = msk): Kafka version (a KRaft one), broker type, client auth \"iam\" or \"scram\"."
  type = object({
    kafka_version = optional(string, "3.9.x.kraft")
    instance_type = optional(string, "kafka.m7g.large")
    client_auth   = optional(string, "iam")
  })
  default = {}

  validation {
    condition     = contains(["iam", "scram"], var.msk.client_auth)
    error_message = "msk.client_auth must be \"iam\" or \"scram\"."
  }

  validation {
    condition     = endswith(var.msk.kafka_version, ".kraft")
    error_message = "msk.kafka_version must be a KRaft version such as 3.9.x.kraft (ZooKeeper mode is not supported)."
  }
}

variable "broker_count" {
  description = "Brokers (for MSK: a multiple of the 3 AZs)."
  type        = number
  default     = 3
}

variable "tags" {
  description = "Tags on every resource."
  type        = map(string)
  default     = {}
}
