output "role_arn" {
  description = "ARN of the member role: the hub assumes it (member_role_name and member_role_path must match)."
  value       = aws_iam_role.member.arn
}

output "account_id" {
  description = "This member account's id, for the hub's member_account_ids."
  value       = data.aws_caller_identity.current.account_id
}
