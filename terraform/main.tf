# Everything deployed by this module lives in the account and region of the configured AWS
# provider; the functions manage IAM in that same account (they read it from their own ARN).

data "aws_caller_identity" "current" {}

data "aws_partition" "current" {}

data "aws_region" "current" {}

locals {
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition
  # `name` is deprecated in favour of `region` from provider 6, but `region` does not exist in 5.x.
  region = data.aws_region.current.name

  dist_dir = coalesce(var.dist_dir, "${path.module}/../dist")

  tags = merge(var.tags, { "dmm-aws:deployment" = var.name_prefix })

  function_names = {
    poll_feed      = "${var.name_prefix}-poll-feed"
    process_events = "${var.name_prefix}-process-events"
    reconcile      = "${var.name_prefix}-reconcile"
  }

  # Lambda writes to /aws/lambda/<function name>; the module creates these groups itself so that
  # they have a retention and so that each role can be limited to its own group.
  log_group_names = { for key, name in local.function_names : key => "/aws/lambda/${name}" }

  state_bucket_name = coalesce(var.state_bucket_name, "${var.name_prefix}-state-${local.account_id}-${local.region}")

  # The agreement index (src/aws/agreement-index.ts): one object per agreement under this prefix
  # of the state bucket. Fixed, because iam.tf grants the IAM writers exactly this prefix.
  agreement_index_prefix = "index/agreements/"
  # Leases on grant targets (src/aws/s3-target-leases.ts), one object per role or resource policy.
  target_lease_prefix = "leases/"

  api_key_secret_arn = var.dmm_api_key_secret_arn != null ? var.dmm_api_key_secret_arn : one(aws_secretsmanager_secret.api_key[*].arn)

  # The environment contract of docs/adr/0003-serverless-shape.md, validated by each function at
  # start-up (src/lambda/environment.ts). An empty string means "not set, use the default" there.
  common_environment = {
    DMM_BASE_URL                 = var.dmm_base_url
    DMM_API_KEY_SECRET_ARN       = local.api_key_secret_arn
    DMM_API_GENERATION           = var.dmm_api_generation
    POWERTOOLS_METRICS_NAMESPACE = var.metrics_namespace
    POWERTOOLS_LOG_LEVEL         = var.log_level
  }

  poll_feed_environment = {
    POWERTOOLS_SERVICE_NAME = local.function_names.poll_feed
    EVENT_QUEUE_URL         = aws_sqs_queue.events.url
    STATE_BUCKET            = aws_s3_bucket.state.bucket
    CHECKPOINT_KEY          = var.checkpoint_key
    POLL_REPEAT_SECONDS     = tostring(var.poll_repeat_seconds)
  }

  # process-events and reconcile write IAM and share these settings.
  iam_writer_environment = {
    # null: no default workgroup; a Glue port that names none is refused (nothing nobody named is
    # granted).
    DMM_ATHENA_WORKGROUP        = var.athena_workgroup != null ? var.athena_workgroup : ""
    DMM_ATHENA_RESULTS_LOCATION = var.athena_results_location != null ? var.athena_results_location : ""
    # null: a port described by a data contract with several fitting servers takes the one in
    # environment prod/production, else it is refused naming the candidates.
    DMM_DATA_CONTRACT_SERVER      = var.data_contract_server != null ? var.data_contract_server : ""
    DMM_DATA_CONTRACT_ENVIRONMENT = var.data_contract_environment != null ? var.data_contract_environment : ""
    MANAGED_ROLE_PATH             = var.managed_role_path
    STATE_BUCKET                  = aws_s3_bucket.state.bucket
    AGREEMENT_INDEX_PREFIX        = local.agreement_index_prefix
    TARGET_LEASE_PREFIX           = local.target_lease_prefix
    DMM_GLUE_TABLES_GOVERNED_BY   = var.glue_tables_governed_by
  }

  process_events_environment = {
    POWERTOOLS_SERVICE_NAME = local.function_names.process_events
    # Must equal the queue's redrive maxReceiveCount: the attempt with this receive count is the
    # last, so it reports the failure to Data Mesh Manager before SQS dead-letters the event.
    MAX_RECEIVE_COUNT = tostring(var.max_receive_count)
    # The event source hands over at most 10 FIFO messages; the handler receives more itself.
    MAX_BATCH_EVENTS = tostring(var.process_events_max_batch_events)
    # A lease outlives the invocation that took it (plus a minute of clock skew), so a live
    # invocation never loses one and a crashed one blocks its roles no longer than this.
    TARGET_LEASE_SECONDS = tostring(var.process_events_timeout_seconds + 60)
  }

  reconcile_environment = {
    POWERTOOLS_SERVICE_NAME = local.function_names.reconcile
    TARGET_LEASE_SECONDS    = tostring(var.reconcile_timeout_seconds + 60)
  }
}

# Variable validation blocks can only refer to their own variable before Terraform 1.9, so the
# rule that spans two variables is a precondition, checked at plan time.
resource "terraform_data" "api_key_source" {
  input = var.dmm_api_key_secret_arn != null ? "existing-secret" : "module-secret"

  lifecycle {
    precondition {
      condition     = (var.dmm_api_key == null) != (var.dmm_api_key_secret_arn == null)
      error_message = "Set exactly one of dmm_api_key (the module creates a secret holding it) and dmm_api_key_secret_arn (an existing secret)."
    }
  }
}
