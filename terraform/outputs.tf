output "function_names" {
  description = "Names of the three functions, keyed poll_feed, process_events, reconcile."
  value       = { for key, function in aws_lambda_function.this : key => function.function_name }
}

output "function_arns" {
  description = "ARNs of the three functions."
  value       = { for key, function in aws_lambda_function.this : key => function.arn }
}

output "role_arns" {
  description = "ARNs of the functions' execution roles (e.g. for a KMS key policy of an existing secret)."
  value       = { for key, role in aws_iam_role.this : key => role.arn }
}

output "log_group_names" {
  description = "CloudWatch log groups of the three functions."
  value       = { for key, group in aws_cloudwatch_log_group.this : key => group.name }
}

output "event_queue_url" {
  description = "URL of the SQS FIFO event queue."
  value       = aws_sqs_queue.events.url
}

output "event_queue_arn" {
  description = "ARN of the SQS FIFO event queue (the destination when replaying dead letters)."
  value       = aws_sqs_queue.events.arn
}

output "dead_letter_queue_url" {
  description = "URL of the dead-letter queue."
  value       = aws_sqs_queue.dead_letter.url
}

output "dead_letter_queue_arn" {
  description = "ARN of the dead-letter queue (the source of `aws sqs start-message-move-task`)."
  value       = aws_sqs_queue.dead_letter.arn
}

output "state_bucket" {
  description = "Name of the state bucket (the checkpoint, and the agreement index under index/agreements/)."
  value       = aws_s3_bucket.state.bucket
}

output "checkpoint_uri" {
  description = "Where poll-feed keeps its checkpoint."
  value       = "s3://${aws_s3_bucket.state.bucket}/${var.checkpoint_key}"
}

output "api_key_secret_arn" {
  description = "ARN of the Secrets Manager secret holding the Data Mesh Manager API key."
  value       = local.api_key_secret_arn
}

output "alarm_names" {
  description = "Names of the CloudWatch alarms."
  value = concat(
    [aws_cloudwatch_metric_alarm.dead_letters.alarm_name, aws_cloudwatch_metric_alarm.queue_backlog.alarm_name],
    [for alarm in aws_cloudwatch_metric_alarm.function_errors : alarm.alarm_name],
  )
}

output "dry_run_command" {
  description = "Shell command that runs a full reconcile as a dry run and writes the plan to plan.json."
  value       = "aws lambda invoke --region ${local.region} --function-name ${aws_lambda_function.this["reconcile"].function_name} --cli-binary-format raw-in-base64-out --cli-read-timeout 0 --payload '{\"dryRun\": true}' plan.json"
}

output "iam_writer_role_arns" {
  description = "ARNs of the roles of process-events and reconcile, the functions that write IAM: a member account's modules/member trusts exactly these (hub_role_arns)."
  value       = [aws_iam_role.this["process_events"].arn, aws_iam_role.this["reconcile"].arn]
}

output "dashboard_name" {
  description = "Name of the CloudWatch dashboard (null when dashboard_enabled is false)."
  value       = one(aws_cloudwatch_dashboard.this[*].dashboard_name)
}
