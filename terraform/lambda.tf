# The three functions of docs/adr/0003-serverless-shape.md, uploaded straight from `npm run build`
# (dist/<function>.zip with index.mjs): no artefact bucket, one `terraform apply`.
#
# What differs between them is in local.functions; everything else (runtime, architecture, log
# group, role, packaging) is the same for all three and written once below. Their IAM rights differ
# and stay separate documents in iam.tf.

locals {
  functions = {
    poll_feed = {
      description      = "Reads the Data Mesh Manager event feed from the S3 checkpoint into the SQS FIFO queue."
      role_description = "feed to queue, checkpoint in S3."
      zip              = "poll-feed.zip"
      memory_mb        = var.poll_feed_memory_mb
      timeout_seconds  = var.poll_feed_timeout_seconds
      # Not limited: two overlapping polls (a slow one and the next minute's) re-send the same
      # events at worst, which the FIFO queue deduplicates by event id and the core treats
      # idempotently.
      reserved_concurrency = null
      environment          = merge(local.common_environment, local.poll_feed_environment)
    }

    process_events = {
      description      = "Converges the agreement of each queued event: the only writer of IAM besides the full reconcile."
      role_description = "converges agreements on roles under ${var.managed_role_path}."
      zip              = "process-events.zip"
      memory_mb        = var.process_events_memory_mb
      timeout_seconds  = var.process_events_timeout_seconds
      # Policy packs are read-modify-write documents shared by all agreements of a role (ADR
      # 0002): two invocations that each read a pack, added their own agreement and wrote it back
      # would lose one grant. So each role and resource policy is read, planned and written under
      # a lease in the state bucket (docs/adr/0017-target-leases.md), and invocations may run side
      # by side, each agreement's events still in order (the FIFO message group). 1 (the default)
      # handles one batch at a time. The SQS event source copes with throttling by retrying within
      # the visibility timeout, which is why that timeout is six times this function's (queue.tf).
      reserved_concurrency = var.process_events_concurrency
      environment          = merge(local.common_environment, local.iam_writer_environment, local.guardrail_environment, local.process_events_environment)
    }

    reconcile = {
      description          = "Full reconcile of every agreement and managed role (`dmm-aws apply`); {\"dryRun\": true} plans only."
      role_description     = "full reconcile of roles under ${var.managed_role_path}."
      zip                  = "reconcile.zip"
      memory_mb            = var.reconcile_memory_mb
      timeout_seconds      = var.reconcile_timeout_seconds
      reserved_concurrency = null
      environment          = merge(local.common_environment, local.iam_writer_environment, local.guardrail_environment, local.reconcile_environment)
    }
  }
}

resource "aws_cloudwatch_log_group" "this" {
  for_each = local.function_names

  name              = local.log_group_names[each.key]
  retention_in_days = var.log_retention_days
  tags              = local.tags
}

resource "aws_lambda_function" "this" {
  for_each = local.functions

  function_name                  = local.function_names[each.key]
  description                    = each.value.description
  role                           = aws_iam_role.this[each.key].arn
  filename                       = "${local.dist_dir}/${each.value.zip}"
  source_code_hash               = filebase64sha256("${local.dist_dir}/${each.value.zip}")
  handler                        = "index.handler"
  runtime                        = "nodejs22.x"
  architectures                  = ["arm64"]
  memory_size                    = each.value.memory_mb
  timeout                        = each.value.timeout_seconds
  reserved_concurrent_executions = each.value.reserved_concurrency

  environment {
    variables = each.value.environment
  }

  tags = local.tags

  # The group must exist first, or Lambda creates one itself without a retention.
  depends_on = [aws_cloudwatch_log_group.this, aws_iam_role_policy.logs]
}
