# The smallest useful deployment: the module with its defaults, the API key from a variable
# (or an existing secret), consumer roles under one IAM path, and alarms sent to an SNS topic.
#
#   npm ci && npm run build          # in the repository root: dist/*.zip
#   cd terraform/examples/basic
#   cp terraform.tfvars.example terraform.tfvars   # and edit it
#   terraform init && terraform apply

terraform {
  required_version = ">= 1.5"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.77"
    }
  }
}

provider "aws" {
  region = var.region
}

variable "region" {
  description = "AWS region to deploy to; the functions manage IAM in this provider's account."
  type        = string
}

variable "dmm_base_url" {
  description = "Data Mesh Manager / Entropy Data API base URL."
  type        = string
  default     = "https://api.entropy-data.com"
}

variable "dmm_api_key" {
  description = "Data Mesh Manager API key (stored in a new Secrets Manager secret, and in the Terraform state). Leave null when dmm_api_key_secret_arn is set."
  type        = string
  default     = null
  sensitive   = true
}

variable "dmm_api_key_secret_arn" {
  description = "ARN of an existing secret holding the API key, instead of dmm_api_key."
  type        = string
  default     = null
}

variable "managed_role_path" {
  description = "IAM path of the consumer roles the sync may manage, e.g. /data-products/."
  type        = string
  default     = "/"
}

variable "schedules_enabled" {
  description = "false for the first deployment (dry run first), then true."
  type        = bool
  default     = false
}

variable "ownership_allow_list" {
  description = "Provider resources proven to belong to a data product (data_product) or its owner team (team) without the dmm:data-product tag: ARN patterns, * and ? as wildcards. Ownership proof is on: everything else a port names must carry the tag."
  type = list(object({
    data_product = optional(string)
    team         = optional(string)
    resources    = list(string)
  }))
  default = []
}

variable "athena_workgroup" {
  description = "Athena workgroup for Glue ports that name none. null: such ports are refused (no default workgroup is granted)."
  type        = string
  default     = null
}

variable "alarm_email" {
  description = "E-mail address subscribed to the alarms topic (confirm the subscription mail). null: no topic."
  type        = string
  default     = null
}

resource "aws_sns_topic" "alarms" {
  count = var.alarm_email == null ? 0 : 1
  name  = "dmm-aws-alarms"
}

resource "aws_sns_topic_subscription" "alarms" {
  count     = var.alarm_email == null ? 0 : 1
  topic_arn = aws_sns_topic.alarms[0].arn
  protocol  = "email"
  endpoint  = var.alarm_email
}

module "dmm_aws" {
  source = "../.."

  dmm_base_url           = var.dmm_base_url
  dmm_api_key            = var.dmm_api_key
  dmm_api_key_secret_arn = var.dmm_api_key_secret_arn
  managed_role_path      = var.managed_role_path
  schedules_enabled      = var.schedules_enabled
  ownership_allow_list   = var.ownership_allow_list
  athena_workgroup       = var.athena_workgroup
  alarm_actions          = aws_sns_topic.alarms[*].arn

  tags = {
    project = "dmm-aws"
  }
}
