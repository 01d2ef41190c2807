# EventBridge rules that start poll-feed (every minute) and the full reconcile (hourly).
# schedules_enabled = false deploys everything but starts nothing, for the first dry run.

locals {
  schedules = {
    poll_feed = {
      expression   = var.poll_schedule_expression
      description  = "Starts ${local.function_names.poll_feed}."
      statement_id = "AllowScheduledPoll"
      input        = null
      # A poll that waited a minute is overtaken by the next one anyway.
      max_event_age_seconds = 60
    }
    reconcile = {
      expression   = var.reconcile_schedule_expression
      description  = "Starts ${local.function_names.reconcile} (full reconcile)."
      statement_id = "AllowScheduledReconcile"
      # An explicit apply, so that the scheduled run never depends on the handler's default.
      input                 = jsonencode({ dryRun = false })
      max_event_age_seconds = 3600
    }
  }
}

# Each rule is named after the function it starts.
resource "aws_cloudwatch_event_rule" "schedule" {
  for_each = local.schedules

  name                = local.function_names[each.key]
  description         = each.value.description
  schedule_expression = each.value.expression
  state               = var.schedules_enabled ? "ENABLED" : "DISABLED"
  tags                = local.tags
}

resource "aws_cloudwatch_event_target" "schedule" {
  for_each = local.schedules

  rule  = aws_cloudwatch_event_rule.schedule[each.key].name
  arn   = aws_lambda_function.this[each.key].arn
  input = each.value.input
}

resource "aws_lambda_permission" "schedule" {
  for_each = local.schedules

  statement_id  = each.value.statement_id
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.this[each.key].function_name
  principal     = "events.amazonaws.com"
  source_arn    = aws_cloudwatch_event_rule.schedule[each.key].arn
}

# Scheduled invocations are asynchronous, and Lambda retries failed asynchronous invocations twice
# by default. Both scheduled functions run again on their next tick anyway, and an immediate retry
# of a failed full reconcile would only double the IAM and API load, so failures are not retried:
# they show in the Errors alarms instead.
resource "aws_lambda_function_event_invoke_config" "schedule" {
  for_each = local.schedules

  function_name                = aws_lambda_function.this[each.key].function_name
  maximum_retry_attempts       = 0
  maximum_event_age_in_seconds = each.value.max_event_age_seconds
}
