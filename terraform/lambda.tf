# The three functions of docs/adr/0003-serverless-shape.md, uploaded straight from `npm run build`
# (dist/<function>.zip with index.mjs): no artefact bucket, one `terraform apply`.

resource "aws_cloudwatch_log_group" "poll_feed" {
  name              = local.log_group_names.poll_feed
  retention_in_days = var.log_retention_days
  tags              = local.tags
}

resource "aws_cloudwatch_log_group" "process_events" {
  name              = local.log_group_names.process_events
  retention_in_days = var.log_retention_days
  tags              = local.tags
}

resource "aws_cloudwatch_log_group" "reconcile" {
  name              = local.log_group_names.reconcile
  retention_in_days = var.log_retention_days
  tags              = local.tags
}

resource "aws_lambda_function" "poll_feed" {
  function_name    = local.function_names.poll_feed
  description      = "Reads the Data Mesh Manager event feed from the S3 checkpoint into the SQS FIFO queue."
  role             = aws_iam_role.poll_feed.arn
  filename         = "${local.dist_dir}/poll-feed.zip"
  source_code_hash = filebase64sha256("${local.dist_dir}/poll-feed.zip")
  handler          = "index.handler"
  runtime          = "nodejs22.x"
  architectures    = ["arm64"]
  memory_size      = var.poll_feed_memory_mb
  timeout          = var.poll_feed_timeout_seconds

  # Not limited: two overlapping polls (a slow one and the next minute's) re-send the same events
  # at worst, which the FIFO queue deduplicates by event id and the core treats idempotently.

  environment {
    variables = merge(local.common_environment, local.poll_feed_environment)
  }

  tags = local.tags

  # The group must exist first, or Lambda creates one itself without a retention.
  depends_on = [aws_cloudwatch_log_group.poll_feed, aws_iam_role_policy.poll_feed_logs]
}

resource "aws_lambda_function" "process_events" {
  function_name    = local.function_names.process_events
  description      = "Converges the agreement of each queued event: the only writer of IAM besides the full reconcile."
  role             = aws_iam_role.process_events.arn
  filename         = "${local.dist_dir}/process-events.zip"
  source_code_hash = filebase64sha256("${local.dist_dir}/process-events.zip")
  handler          = "index.handler"
  runtime          = "nodejs22.x"
  architectures    = ["arm64"]
  memory_size      = var.process_events_memory_mb
  timeout          = var.process_events_timeout_seconds

  # The single IAM writer (ADR 0003). Policy packs are read-modify-write documents shared by all
  # agreements of a role (ADR 0002): two concurrent invocations could each read a pack, add their
  # own agreement and write it back, and one grant would be lost. One concurrent execution means
  # events are handled one at a time, in order per agreement (the FIFO message group). The SQS
  # event source copes with the resulting throttling by retrying within the visibility timeout,
  # which is why that timeout is six times this function's timeout (queue.tf).
  reserved_concurrent_executions = 1

  environment {
    variables = merge(local.common_environment, local.iam_writer_environment, local.guardrail_environment, local.process_events_environment)
  }

  tags = local.tags

  depends_on = [aws_cloudwatch_log_group.process_events, aws_iam_role_policy.process_events_logs]
}

resource "aws_lambda_function" "reconcile" {
  function_name    = local.function_names.reconcile
  description      = "Full reconcile of every agreement and managed role (`dmm-aws apply`); {\"dryRun\": true} plans only."
  role             = aws_iam_role.reconcile.arn
  filename         = "${local.dist_dir}/reconcile.zip"
  source_code_hash = filebase64sha256("${local.dist_dir}/reconcile.zip")
  handler          = "index.handler"
  runtime          = "nodejs22.x"
  architectures    = ["arm64"]
  memory_size      = var.reconcile_memory_mb
  timeout          = var.reconcile_timeout_seconds

  environment {
    variables = merge(local.common_environment, local.iam_writer_environment, local.guardrail_environment, local.reconcile_environment)
  }

  tags = local.tags

  depends_on = [aws_cloudwatch_log_group.reconcile, aws_iam_role_policy.reconcile_logs]
}

# Scheduled invocations are asynchronous, and Lambda retries failed asynchronous invocations twice
# by default. Both scheduled functions run again on their next tick anyway, and an immediate retry
# of a failed full reconcile would only double the IAM and API load, so failures are not retried:
# they show in the Errors alarms instead.
resource "aws_lambda_function_event_invoke_config" "poll_feed" {
  function_name                = aws_lambda_function.poll_feed.function_name
  maximum_retry_attempts       = 0
  maximum_event_age_in_seconds = 60
}

resource "aws_lambda_function_event_invoke_config" "reconcile" {
  function_name                = aws_lambda_function.reconcile.function_name
  maximum_retry_attempts       = 0
  maximum_event_age_in_seconds = 3600
}
