output "function_names" {
  description = "The hub's three functions."
  value       = module.hub.function_names
}

output "dry_run_command" {
  description = "Runs a full reconcile as a dry run; the plan (with the account of each change) lands in plan.json."
  value       = module.hub.dry_run_command
}

output "consumer_member_role_arn" {
  description = "The member role in the consumer account."
  value       = module.consumer_member.role_arn
}

output "provider_member_role_arn" {
  description = "The member role in the provider account."
  value       = module.provider_member.role_arn
}
