# State moves for deployments made before the per-function resources were folded into for_each
# (function keys poll_feed, process_events, reconcile). `terraform apply` moves the state of an
# existing deployment to the new addresses instead of destroying and recreating the resources;
# no deployed name changes. Keep these blocks: removing them before every deployment has applied
# them once would turn the move back into destroy-and-create. See docs/deployment.md, "Updating".

moved {
  from = aws_cloudwatch_log_group.poll_feed
  to   = aws_cloudwatch_log_group.this["poll_feed"]
}

moved {
  from = aws_cloudwatch_log_group.process_events
  to   = aws_cloudwatch_log_group.this["process_events"]
}

moved {
  from = aws_cloudwatch_log_group.reconcile
  to   = aws_cloudwatch_log_group.this["reconcile"]
}

moved {
  from = aws_lambda_function.poll_feed
  to   = aws_lambda_function.this["poll_feed"]
}

moved {
  from = aws_lambda_function.process_events
  to   = aws_lambda_function.this["process_events"]
}

moved {
  from = aws_lambda_function.reconcile
  to   = aws_lambda_function.this["reconcile"]
}

moved {
  from = aws_iam_role.poll_feed
  to   = aws_iam_role.this["poll_feed"]
}

moved {
  from = aws_iam_role.process_events
  to   = aws_iam_role.this["process_events"]
}

moved {
  from = aws_iam_role.reconcile
  to   = aws_iam_role.this["reconcile"]
}

moved {
  from = aws_iam_role_policy.poll_feed_logs
  to   = aws_iam_role_policy.logs["poll_feed"]
}

moved {
  from = aws_iam_role_policy.process_events_logs
  to   = aws_iam_role_policy.logs["process_events"]
}

moved {
  from = aws_iam_role_policy.reconcile_logs
  to   = aws_iam_role_policy.logs["reconcile"]
}

moved {
  from = aws_iam_role_policy.poll_feed_api_key
  to   = aws_iam_role_policy.api_key["poll_feed"]
}

moved {
  from = aws_iam_role_policy.process_events_api_key
  to   = aws_iam_role_policy.api_key["process_events"]
}

moved {
  from = aws_iam_role_policy.reconcile_api_key
  to   = aws_iam_role_policy.api_key["reconcile"]
}

moved {
  from = aws_iam_role_policy.process_events_iam
  to   = aws_iam_role_policy.iam_writer["process_events"]
}

moved {
  from = aws_iam_role_policy.reconcile_iam
  to   = aws_iam_role_policy.iam_writer["reconcile"]
}

moved {
  from = aws_cloudwatch_metric_alarm.poll_feed_errors
  to   = aws_cloudwatch_metric_alarm.function_errors["poll_feed"]
}

moved {
  from = aws_cloudwatch_metric_alarm.process_events_errors
  to   = aws_cloudwatch_metric_alarm.function_errors["process_events"]
}

moved {
  from = aws_cloudwatch_metric_alarm.reconcile_errors
  to   = aws_cloudwatch_metric_alarm.function_errors["reconcile"]
}

moved {
  from = aws_cloudwatch_event_rule.poll_feed
  to   = aws_cloudwatch_event_rule.schedule["poll_feed"]
}

moved {
  from = aws_cloudwatch_event_target.poll_feed
  to   = aws_cloudwatch_event_target.schedule["poll_feed"]
}

moved {
  from = aws_lambda_permission.poll_feed_schedule
  to   = aws_lambda_permission.schedule["poll_feed"]
}

moved {
  from = aws_lambda_function_event_invoke_config.poll_feed
  to   = aws_lambda_function_event_invoke_config.schedule["poll_feed"]
}

moved {
  from = aws_cloudwatch_event_rule.reconcile
  to   = aws_cloudwatch_event_rule.schedule["reconcile"]
}

moved {
  from = aws_cloudwatch_event_target.reconcile
  to   = aws_cloudwatch_event_target.schedule["reconcile"]
}

moved {
  from = aws_lambda_permission.reconcile_schedule
  to   = aws_lambda_permission.schedule["reconcile"]
}

moved {
  from = aws_lambda_function_event_invoke_config.reconcile
  to   = aws_lambda_function_event_invoke_config.schedule["reconcile"]
}
