# A CloudWatch dashboard of the sync at a glance: is the feed read, are events processed, what is
# granted, revoked and failing, is anything dead-lettered, are the functions healthy. Each alarm's
# threshold is drawn on the widget of its metric. Every metric here is one the functions emit
# (namespace var.metrics_namespace, dimension `service` = the function name, as Powertools
# writes it) or one AWS publishes for the module's queues and functions; test/terraform checks
# this. What to do when a widget looks wrong is in docs/operations.md, "Dashboard".

locals {
  dashboard_name = "${var.name_prefix}-sync"

  # Everything the dashboard takes from the module's resources, in one place (the static test
  # substitutes these to evaluate the body without providers).
  dashboard_refs = {
    events_queue      = aws_sqs_queue.events.name
    dead_letter_queue = aws_sqs_queue.dead_letter.name
    queue_backlog     = { alarm_name = aws_cloudwatch_metric_alarm.queue_backlog.alarm_name, threshold = aws_cloudwatch_metric_alarm.queue_backlog.threshold }
    dead_letters      = { alarm_name = aws_cloudwatch_metric_alarm.dead_letters.alarm_name, threshold = aws_cloudwatch_metric_alarm.dead_letters.threshold }
    outages           = { alarm_name = aws_cloudwatch_metric_alarm.outages.alarm_name, threshold = aws_cloudwatch_metric_alarm.outages.threshold }
    function_errors   = { for key, alarm in aws_cloudwatch_metric_alarm.function_errors : key => { alarm_name = alarm.alarm_name, threshold = alarm.threshold } }
  }

  dashboard_lambda_widgets = {
    Errors    = { title = "Function errors (alarms: errors in a 5-minute period)", stat = "Sum" }
    Throttles = { title = "Function throttles", stat = "Sum" }
    Duration  = { title = "Function duration, ms (p95)", stat = "p95" }
  }

  dashboard_body = jsonencode({
    widgets = concat([
      {
        type = "text", x = 0, y = 0, width = 24, height = 2
        properties = {
          markdown = "## ${var.name_prefix}: Data Mesh Manager → AWS IAM\nFeed → queue → process-events → IAM, and the scheduled full reconcile. Alarms are drawn as horizontal lines; what to do is in docs/operations.md. `dmm-aws report` shows who can read what."
        }
      },
      {
        type = "metric", x = 0, y = 2, width = 8, height = 6
        properties = {
          title  = "Feed lag, seconds (newest event read by poll-feed)"
          region = local.region, view = "timeSeries", period = 300, stat = "Maximum"
          metrics = [
            [var.metrics_namespace, "FeedLagSeconds", "service", local.function_names.poll_feed, { label = "feed lag" }],
          ]
          yAxis = { left = { min = 0 } }
        }
      },
      {
        type = "metric", x = 8, y = 2, width = 8, height = 6
        properties = {
          title  = "Events read, queued, processed"
          region = local.region, view = "timeSeries", period = 300, stat = "Sum"
          metrics = [
            [var.metrics_namespace, "EventsRead", "service", local.function_names.poll_feed, { label = "read from the feed" }],
            [var.metrics_namespace, "EventsQueued", "service", local.function_names.poll_feed, { label = "queued" }],
            # An event is deleted from the queue once process-events has handled it.
            ["AWS/SQS", "NumberOfMessagesDeleted", "QueueName", local.dashboard_refs.events_queue, { label = "processed" }],
            [var.metrics_namespace, "Outages", "service", local.function_names.process_events, { label = "met an outage (retried)" }],
          ]
          annotations = {
            horizontal = [{ label = "alarm ${local.dashboard_refs.outages.alarm_name}", value = local.dashboard_refs.outages.threshold }]
          }
          yAxis = { left = { min = 0 } }
        }
      },
      {
        type = "metric", x = 16, y = 2, width = 8, height = 6
        properties = {
          title  = "Queue: oldest event's age, seconds"
          region = local.region, view = "timeSeries", period = 300, stat = "Maximum"
          metrics = [
            ["AWS/SQS", "ApproximateAgeOfOldestMessage", "QueueName", local.dashboard_refs.events_queue, { label = "oldest event" }],
          ]
          annotations = {
            horizontal = [{ label = "alarm ${local.dashboard_refs.queue_backlog.alarm_name}", value = local.dashboard_refs.queue_backlog.threshold }]
          }
          yAxis = { left = { min = 0 } }
        }
      },
      {
        type = "metric", x = 0, y = 8, width = 8, height = 6
        properties = {
          title  = "Grants, revokes, failures (agreements)"
          region = local.region, view = "timeSeries", period = 300, stat = "Sum"
          metrics = concat(
            [for m in ["Grants", "Revokes", "Failures"] : [var.metrics_namespace, m, "service", local.function_names.process_events, { label = "${m} (events)" }]],
            [for m in ["Grants", "Revokes", "Failures"] : [var.metrics_namespace, m, "service", local.function_names.reconcile, { label = "${m} (full reconcile)" }]],
          )
          yAxis = { left = { min = 0 } }
        }
      },
      {
        type = "metric", x = 8, y = 8, width = 8, height = 6
        properties = {
          title  = "Dead-letter queue depth"
          region = local.region, view = "timeSeries", period = 300, stat = "Maximum"
          metrics = [
            ["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", local.dashboard_refs.dead_letter_queue, { label = "events given up on" }],
            [var.metrics_namespace, "DeadLettered", "service", local.function_names.process_events, { label = "dead-lettered (count)", stat = "Sum" }],
          ]
          annotations = {
            horizontal = [{ label = "alarm ${local.dashboard_refs.dead_letters.alarm_name}", value = local.dashboard_refs.dead_letters.threshold }]
          }
          yAxis = { left = { min = 0 } }
        }
      },
      {
        type = "metric", x = 16, y = 8, width = 8, height = 6
        properties = {
          title  = "IAM writes by the full reconcile"
          region = local.region, view = "timeSeries", period = 3600, stat = "Sum"
          metrics = [
            [var.metrics_namespace, "ReconcileChanges", "service", local.function_names.reconcile, { label = "IAM writes (full reconcile: drift it repaired)" }],
          ]
          yAxis = { left = { min = 0 } }
        }
      },
      ],
      [
        for i, metric in keys(local.dashboard_lambda_widgets) : {
          type = "metric", x = 8 * i, y = 14, width = 8, height = 6
          properties = merge(
            {
              title   = local.dashboard_lambda_widgets[metric].title
              region  = local.region, view = "timeSeries", period = 300, stat = local.dashboard_lambda_widgets[metric].stat
              metrics = [for key, name in local.function_names : ["AWS/Lambda", metric, "FunctionName", name, { label = key }]]
              yAxis   = { left = { min = 0 } }
            },
            metric == "Errors" ? {
              annotations = {
                horizontal = [for key, alarm in local.dashboard_refs.function_errors : { label = "alarm ${alarm.alarm_name}", value = alarm.threshold }]
              }
            } : {},
          )
        }
      ],
    )
  })
}

resource "aws_cloudwatch_dashboard" "this" {
  count = var.dashboard_enabled ? 1 : 0

  dashboard_name = local.dashboard_name
  dashboard_body = local.dashboard_body
}
