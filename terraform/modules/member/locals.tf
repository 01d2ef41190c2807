# The member role's rights as values, from the variables and local.account_id / local.partition
# (main.tf) only: test/terraform/member.test.ts evaluates them with `terraform console`.

locals {
  managed_roles_arn = "arn:${local.partition}:iam::${local.account_id}:role${var.managed_role_path}*"
  managed_packs_arn = "arn:${local.partition}:iam::${local.account_id}:policy/dmm-aws/*"
  member_role_arn   = "arn:${local.partition}:iam::${local.account_id}:role${var.role_path}${var.role_name}"

  # Mirrors ALWAYS_PROTECTED_ROLES in src/sync/guardrails.ts.
  always_protected_roles = [
    "OrganizationAccountAccessRole",
    "AWSReservedSSO_*",
    "AWSServiceRoleFor*",
    "AWSControlTower*",
    "aws-controltower-*",
    "AWSCloudFormationStackSetExecutionRole",
    "stacksets-exec-*",
  ]
  protected_role_arns = concat([local.member_role_arn], flatten([
    for name in concat(local.always_protected_roles, var.protected_role_names) : [
      "arn:${local.partition}:iam::${local.account_id}:role/${name}",
      "arn:${local.partition}:iam::${local.account_id}:role/*/${name}",
    ]
  ]))

  required_role_tag_conditions = var.required_role_tag == null ? [] : [
    try(var.required_role_tag.value, null) == null ? {
      test     = "Null"
      variable = "aws:ResourceTag/${var.required_role_tag.key}"
      values   = ["false"]
      } : {
      test     = "StringEquals"
      variable = "aws:ResourceTag/${var.required_role_tag.key}"
      values   = [var.required_role_tag.value]
    },
  ]

  lake_formation_statements = var.lake_formation ? [
    {
      sid     = "GrantAndRevokeLakeFormationPermissions"
      actions = ["lakeformation:GrantPermissions", "lakeformation:ListPermissions", "lakeformation:RevokePermissions"]
    },
  ] : []

  provider_bucket_arns = [for name in var.provider_bucket_names : "arn:${local.partition}:s3:::${name}"]
}
