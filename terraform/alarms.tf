# Alarms on what needs a human: events given up on, and functions that fail. What to do for each
# is in docs/operations.md. They notify var.alarm_actions (e.g. an SNS topic) when set.

resource "aws_cloudwatch_metric_alarm" "dead_letters" {
  alarm_name        = "${var.name_prefix}-dead-letters"
  alarm_description = "Events were given up on after ${var.max_receive_count} attempts and sit in ${aws_sqs_queue.dead_letter.name}. Their agreements were reported failed in Data Mesh Manager. See docs/operations.md, \"Dead letters\"."
  namespace         = "AWS/SQS"
  metric_name       = "ApproximateNumberOfMessagesVisible"
  dimensions = {
    QueueName = aws_sqs_queue.dead_letter.name
  }
  statistic           = "Maximum"
  period              = 300
  evaluation_periods  = 1
  comparison_operator = "GreaterThanThreshold"
  threshold           = 0
  # SQS stops publishing metrics for a queue that saw no activity for hours: an idle, empty
  # dead-letter queue reports nothing, which is the good case.
  treat_missing_data = "notBreaching"
  alarm_actions      = var.alarm_actions
  ok_actions         = var.alarm_actions
  tags               = local.tags
}

resource "aws_cloudwatch_metric_alarm" "queue_backlog" {
  alarm_name        = "${var.name_prefix}-queue-backlog"
  alarm_description = "The oldest event in ${aws_sqs_queue.events.name} has waited more than an hour: process-events is failing, throttled or disabled. See docs/operations.md, \"Queue backlog\"."
  namespace         = "AWS/SQS"
  metric_name       = "ApproximateAgeOfOldestMessage"
  dimensions = {
    QueueName = aws_sqs_queue.events.name
  }
  statistic           = "Maximum"
  period              = 300
  evaluation_periods  = 1
  comparison_operator = "GreaterThanThreshold"
  threshold           = 3600
  treat_missing_data  = "notBreaching"
  alarm_actions       = var.alarm_actions
  ok_actions          = var.alarm_actions
  tags                = local.tags
}

# Errors of each function. What differs is how long a failure may last before a human is needed.
locals {
  function_error_alarms = {
    # poll-feed runs every minute; a Data Mesh Manager outage of a few minutes heals by itself
    # (the next poll resumes from the checkpoint), so it alarms only after 15 minutes of failures.
    poll_feed = {
      evaluation_periods = 3
      description        = "${local.function_names.poll_feed} failed in each of the last three 5-minute periods: new events are not being read."
    }
    # Failed records are reported per item and retried by SQS; an Error here means the whole
    # invocation failed (bad configuration, crash, timeout), so every occurrence counts.
    process_events = {
      evaluation_periods = 1
      description        = "${local.function_names.process_events} invocations failed as a whole (configuration, crash or timeout)."
    }
    reconcile = {
      evaluation_periods = 1
      description        = "The full reconcile ${local.function_names.reconcile} failed."
    }
  }
}

resource "aws_cloudwatch_metric_alarm" "function_errors" {
  for_each = local.function_error_alarms

  alarm_name          = "${local.function_names[each.key]}-errors"
  alarm_description   = "${each.value.description} See docs/operations.md, \"Function errors\"."
  namespace           = "AWS/Lambda"
  metric_name         = "Errors"
  dimensions          = { FunctionName = aws_lambda_function.this[each.key].function_name }
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = each.value.evaluation_periods
  datapoints_to_alarm = each.value.evaluation_periods
  comparison_operator = "GreaterThanThreshold"
  threshold           = 0
  treat_missing_data  = "notBreaching"
  alarm_actions       = var.alarm_actions
  ok_actions          = var.alarm_actions
  tags                = local.tags
}
