# EventBridge rules that start poll-feed (every minute) and the full reconcile (hourly).
# schedules_enabled = false deploys everything but starts nothing, for the first dry run.

resource "aws_cloudwatch_event_rule" "poll_feed" {
  name                = "${var.name_prefix}-poll-feed"
  description         = "Starts ${local.function_names.poll_feed}."
  schedule_expression = var.poll_schedule_expression
  state               = var.schedules_enabled ? "ENABLED" : "DISABLED"
  tags                = local.tags
}

resource "aws_cloudwatch_event_target" "poll_feed" {
  rule = aws_cloudwatch_event_rule.poll_feed.name
  arn  = aws_lambda_function.poll_feed.arn
}

resource "aws_lambda_permission" "poll_feed_schedule" {
  statement_id  = "AllowScheduledPoll"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.poll_feed.function_name
  principal     = "events.amazonaws.com"
  source_arn    = aws_cloudwatch_event_rule.poll_feed.arn
}

resource "aws_cloudwatch_event_rule" "reconcile" {
  name                = "${var.name_prefix}-reconcile"
  description         = "Starts ${local.function_names.reconcile} (full reconcile)."
  schedule_expression = var.reconcile_schedule_expression
  state               = var.schedules_enabled ? "ENABLED" : "DISABLED"
  tags                = local.tags
}

resource "aws_cloudwatch_event_target" "reconcile" {
  rule = aws_cloudwatch_event_rule.reconcile.name
  arn  = aws_lambda_function.reconcile.arn
  # An explicit apply, so that the scheduled run never depends on the handler's default.
  input = jsonencode({ dryRun = false })
}

resource "aws_lambda_permission" "reconcile_schedule" {
  statement_id  = "AllowScheduledReconcile"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.reconcile.function_name
  principal     = "events.amazonaws.com"
  source_arn    = aws_cloudwatch_event_rule.reconcile.arn
}
