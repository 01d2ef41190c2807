# Alarms on what needs a human: events given up on, outages that do not end, and functions that fail. What to do for each
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

# process-events counts every event an outage kept back (Data Mesh Manager or AWS unreachable,
# throttling, missing credentials) in its own metric. Those events are never dead-lettered: they
# wait with a backoff and are put back on the queue for as long as the outage lasts, so nothing
# else would tell a human that the sync has stopped converging. A short blip heals by itself;
# outages in every 5-minute period for var.outage_alarm_periods periods in a row alarm.
resource "aws_cloudwatch_metric_alarm" "outages" {
  alarm_name        = "${var.name_prefix}-outages"
  alarm_description = "${local.function_names.process_events} met outages (Data Mesh Manager or AWS unreachable, throttling, missing credentials) in each of the last ${var.outage_alarm_periods} 5-minute periods: events are kept, not lost, but nothing converges until the cause is fixed. See docs/operations.md, \"Outages\"."
  namespace         = var.metrics_namespace
  metric_name       = "Outages"
  # Powertools adds the service dimension: the function's POWERTOOLS_SERVICE_NAME (main.tf).
  dimensions = {
    service = local.function_names.process_events
  }
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = var.outage_alarm_periods
  datapoints_to_alarm = var.outage_alarm_periods
  comparison_operator = "GreaterThanThreshold"
  threshold           = 0
  # process-events emits Outages (0 when none) on every invocation; no invocation, no outage.
  treat_missing_data = "notBreaching"
  alarm_actions      = var.alarm_actions
  ok_actions         = var.alarm_actions
  tags               = local.tags
}
