output "function_names" {
  description = "The three functions."
  value       = module.dmm_aws.function_names
}

output "dry_run_command" {
  description = "Runs a full reconcile as a dry run; the plan lands in plan.json."
  value       = module.dmm_aws.dry_run_command
}

output "dead_letter_queue_arn" {
  description = "Source of `aws sqs start-message-move-task` when replaying dead letters."
  value       = module.dmm_aws.dead_letter_queue_arn
}

output "log_group_names" {
  description = "Where the functions log."
  value       = module.dmm_aws.log_group_names
}

output "state_bucket" {
  description = "The bucket holding poll-feed's checkpoint."
  value       = module.dmm_aws.state_bucket
}

output "role_arns" {
  description = "The functions' execution roles."
  value       = module.dmm_aws.role_arns
}
