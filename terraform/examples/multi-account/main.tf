# A hub and two members (docs/multi-account.md): the hub deploys the functions in a governance
# account; a consumer account and a provider account each deploy the member role. One set of
# credentials that may assume a deployment role in each account (provider aliases below).
#
#   npm ci && npm run build          # in the repository root: dist/*.zip
#   cd terraform/examples/multi-account
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

variable "region" {
  description = "AWS region of the hub's functions (and of the member roles' provider configuration)."
  type        = string
}

variable "hub_deployment_role_arn" {
  description = "Role Terraform assumes to deploy into the hub account."
  type        = string
}

variable "consumer_deployment_role_arn" {
  description = "Role Terraform assumes to deploy into the consumer member account."
  type        = string
}

variable "provider_deployment_role_arn" {
  description = "Role Terraform assumes to deploy into the provider member account."
  type        = string
}

variable "dmm_base_url" {
  description = "Data Mesh Manager / Entropy Data API base URL."
  type        = string
  default     = "https://api.entropy-data.com"
}

variable "dmm_api_key_secret_arn" {
  description = "Existing Secrets Manager secret in the hub account holding the Data Mesh Manager API key."
  type        = string
}

variable "member_external_id_secret_arn" {
  description = "Existing Secrets Manager secret in the hub account whose plain-text value is the member roles' external ID."
  type        = string
}

variable "member_external_id" {
  description = "The same external ID, for the member roles' trust policies (kept in this configuration's state: keep it private)."
  type        = string
  sensitive   = true
}

variable "consumer_role_path" {
  description = "IAM path of the consumer roles in the member accounts."
  type        = string
  default     = "/data-consumers/"
}

provider "aws" {
  alias  = "hub"
  region = var.region
  assume_role {
    role_arn = var.hub_deployment_role_arn
  }
}

provider "aws" {
  alias  = "consumer"
  region = var.region
  assume_role {
    role_arn = var.consumer_deployment_role_arn
  }
}

provider "aws" {
  alias  = "producer"
  region = var.region
  assume_role {
    role_arn = var.provider_deployment_role_arn
  }
}

data "aws_caller_identity" "consumer" {
  provider = aws.consumer
}

data "aws_caller_identity" "producer" {
  provider = aws.producer
}

module "hub" {
  source    = "../.."
  providers = { aws = aws.hub }

  dmm_base_url                  = var.dmm_base_url
  dmm_api_key_secret_arn        = var.dmm_api_key_secret_arn
  managed_role_path             = var.consumer_role_path
  member_account_ids            = [data.aws_caller_identity.consumer.account_id, data.aws_caller_identity.producer.account_id]
  member_external_id_secret_arn = var.member_external_id_secret_arn
  allowed_resource_account_ids  = [data.aws_caller_identity.consumer.account_id, data.aws_caller_identity.producer.account_id]
  # The consumer account reads from the provider account, and not the other way round.
  allowed_account_pairs = [
    { consumer = data.aws_caller_identity.consumer.account_id, provider = data.aws_caller_identity.producer.account_id },
  ]
  # Or, instead of (or besides) naming the accounts: every ACTIVE account under an OU, nested OUs
  # included, each deploying modules/member (e.g. from the account factory); then leave
  # allowed_resource_account_ids unset so that it follows the members (docs/multi-account.md).
  # member_organizational_unit_ids = ["ou-ab12-cdef3456"]
  # organizations_role_arn         = "arn:aws:iam::999999999999:role/dmm-aws-organizations-reader"
  # Athena query results of the consumer account's roles, in a bucket of that account.
  # athena_results_locations = { (data.aws_caller_identity.consumer.account_id) = "s3://analytics-athena-results/dmm/" }
  # Deploy first without schedules, check a dry run of reconcile, then set true (docs/deployment.md).
  schedules_enabled = false
}

module "consumer_member" {
  source    = "../../modules/member"
  providers = { aws = aws.consumer }

  hub_role_arns     = module.hub.iam_writer_role_arns
  external_id       = var.member_external_id
  managed_role_path = var.consumer_role_path
}

module "provider_member" {
  source    = "../../modules/member"
  providers = { aws = aws.producer }

  hub_role_arns     = module.hub.iam_writer_role_arns
  external_id       = var.member_external_id
  managed_role_path = var.consumer_role_path
}
