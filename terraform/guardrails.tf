# The guardrails of src/sync/guardrails.ts, in the two places they act: the environment of the
# functions that write IAM (the code refuses what they forbid, with the reason on the agreement)
# and the IAM policy of those functions (iam.tf), which holds even if the code had a bug.
#
# These locals depend on variables, local.account_id, local.partition and local.function_names
# only: test/terraform evaluates them with `terraform console` for any set of variables.

locals {
  # Mirrors ALWAYS_PROTECTED_ROLES in src/sync/guardrails.ts (test/terraform/guardrails.test.ts
  # compares both): how AWS Organizations, IAM Identity Center, Control Tower and CloudFormation
  # StackSets administer an account. The code adds these itself; the Deny below needs them here.
  always_protected_roles = [
    "OrganizationAccountAccessRole",
    "AWSReservedSSO_*",
    "AWSServiceRoleFor*",
    "AWSControlTower*",
    "aws-controltower-*",
    "AWSCloudFormationStackSetExecutionRole",
    "stacksets-exec-*",
  ]

  # The module's own roles are protected in the code as well, so that an agreement naming one is
  # refused with a reason instead of failing on the IAM Deny.
  protected_role_names = distinct(concat(values(local.function_names), var.protected_role_names))

  # Protected names as role ARNs: a name matches at any path (IAM Identity Center roles live under
  # /aws-reserved/sso.amazonaws.com/, service-linked roles under /aws-service-role/...), and IAM's
  # "*" matches "/" too. "role/*/<name>" can also match a role whose path has a segment starting
  # with a prefix pattern: for a Deny that errs on the safe side.
  protected_role_arns = flatten([
    for name in concat(local.always_protected_roles, var.protected_role_names) : [
      "arn:${local.partition}:iam::${local.account_id}:role/${name}",
      "arn:${local.partition}:iam::${local.account_id}:role/*/${name}",
    ]
  ])

  # The required role tag as IAM conditions on the role writes. aws:ResourceTag/<key> is the key
  # the IAM User Guide names for "control access to user or role resources based on their tags"
  # (https://docs.aws.amazon.com/IAM/latest/UserGuide/access_iam-tags.html); the Service
  # Authorization Reference lists it (and the older iam:ResourceTag/<key>) for the role resource
  # of Put/DeleteRolePolicy and Attach/DetachRolePolicy. A role without the tag has no value for
  # the key: StringEquals then does not match, and Null = false requires the key to be present.
  required_role_tag_conditions = var.required_role_tag == null ? [] : [
    var.required_role_tag.value == null ? {
      test     = "Null"
      variable = "aws:ResourceTag/${var.required_role_tag.key}"
      values   = ["false"]
      } : {
      test     = "StringEquals"
      variable = "aws:ResourceTag/${var.required_role_tag.key}"
      values   = [var.required_role_tag.value]
    },
  ]

  # [] means the deployment's own account, as in the code's default.
  any_resource_account      = var.allowed_resource_account_ids == tolist(["*"])
  allowed_resource_accounts = length(var.allowed_resource_account_ids) == 0 ? [local.account_id] : var.allowed_resource_account_ids

  # Ownership proof (on unless ownership_proof = "off") reads the tags of provider resources
  # (src/aws/resource-tags.ts, RESOURCE_TAG_ACTIONS_USED): S3 buckets (a folder is proven by its
  # bucket's tags), Glue databases and tables, KMS keys, Kinesis streams, DynamoDB tables (for
  # their streams too), MSK clusters (for their topics). Only in the accounts whose resources may be
  # granted: the account guardrail refuses a grant before its resources' tags are read. Reading
  # tags changes nothing and reveals no data; the allow-list needs no AWS rights.
  resource_tag_accounts = local.any_resource_account ? ["*"] : local.allowed_resource_accounts

  # Lake Formation grants (glue_tables_governed_by = "lake-formation"; src/aws/lake-formation.ts,
  # LAKE_FORMATION_ACTIONS_USED). Lake Formation's permission APIs have no resource-level
  # permissions: what the functions may grant is decided by Lake Formation itself (data lake
  # administrator, or permissions held with grant option).
  lake_formation_statements = var.glue_tables_governed_by == "lake-formation" ? [
    {
      sid        = "GrantLakeFormationPermissions"
      actions    = ["lakeformation:GrantPermissions", "lakeformation:ListPermissions", "lakeformation:RevokePermissions"]
      resources  = ["*"]
      conditions = []
    },
  ] : []
  resource_tag_statements = var.ownership_proof == "off" ? [] : [
    {
      sid     = "ReadProviderGlueTags"
      actions = ["glue:GetTags"]
      resources = flatten([
        for account in local.resource_tag_accounts : [
          "arn:${local.partition}:glue:*:${account}:database/*",
          "arn:${local.partition}:glue:*:${account}:table/*/*",
        ]
      ])
      conditions = []
    },
    {
      # Bucket ARNs carry no account; s3:ResourceAccount (the bucket owner) does, as in the
      # account condition the code puts on granted S3 statements.
      sid       = "ReadProviderBucketTags"
      actions   = ["s3:GetBucketTagging"]
      resources = ["arn:${local.partition}:s3:::*"]
      conditions = local.any_resource_account ? [] : [
        {
          test     = "StringEquals"
          variable = "s3:ResourceAccount"
          values   = local.allowed_resource_accounts
        },
      ]
    },
    {
      # KMS keys a port names (SSE-KMS data, encrypted tables) are provider resources too. KMS
      # authorises this only where the key policy lets IAM decide (the default key policy does).
      # ListResourceTags does not work across accounts at all: a key in another allowed account
      # cannot be proven by its tags and needs an ownership_allow_list entry; the statement
      # names those accounts anyway, so that it follows allowed_resource_account_ids as the others do.
      sid     = "ReadProviderKmsKeyTags"
      actions = ["kms:ListResourceTags"]
      resources = [
        for account in local.resource_tag_accounts : "arn:${local.partition}:kms:*:${account}:key/*"
      ]
      conditions = []
    },
    {
      sid     = "ReadProviderStreamTags"
      actions = ["kinesis:ListTagsForStream"]
      resources = [
        for account in local.resource_tag_accounts : "arn:${local.partition}:kinesis:*:${account}:stream/*"
      ]
      conditions = []
    },
    {
      sid     = "ReadProviderDynamoDbTags"
      actions = ["dynamodb:ListTagsOfResource"]
      resources = [
        for account in local.resource_tag_accounts : "arn:${local.partition}:dynamodb:*:${account}:table/*"
      ]
      conditions = []
    },
    {
      # Kafka topics carry no tags: a topic is proven by its cluster's.
      sid     = "ReadProviderMskClusterTags"
      actions = ["kafka:ListTagsForResource"]
      resources = [
        for account in local.resource_tag_accounts : "arn:${local.partition}:kafka:*:${account}:cluster/*/*"
      ]
      conditions = []
    },
  ]

  # The allow-list as the code reads it (DMM_OWNERSHIP_ALLOW_LIST): JSON, an array of
  # {"dataProduct": ..., "resources": [...]} or {"team": ..., "resources": [...]}; [] is "" (none).
  ownership_allow_list_json = length(var.ownership_allow_list) == 0 ? "" : jsonencode([
    for entry in var.ownership_allow_list : merge(
      { for key, value in { dataProduct = entry.data_product, team = entry.team } : key => value if value != null },
      { resources = entry.resources },
    )
  ])

  # The environment contract of src/sync/guardrail-settings.ts (GUARDRAIL_ENVIRONMENT). An empty
  # string means "not set": the code's default applies.
  guardrail_environment = {
    DMM_REQUIRED_ROLE_TAG = (
      var.required_role_tag == null ? "" :
      try(var.required_role_tag.value, null) == null ? var.required_role_tag.key :
      "${var.required_role_tag.key}=${var.required_role_tag.value}"
    )
    DMM_PROTECTED_ROLES              = join(",", local.protected_role_names)
    DMM_ALLOWED_RESOURCE_ACCOUNTS    = join(",", var.allowed_resource_account_ids)
    DMM_OWNERSHIP_PROOF              = var.ownership_proof
    DMM_OWNERSHIP_TAG_KEY            = var.ownership_tag_key
    DMM_OWNERSHIP_TEAM_TAG_KEY       = var.ownership_team_tag_key != null ? var.ownership_team_tag_key : ""
    DMM_OWNERSHIP_ALLOW_LIST         = local.ownership_allow_list_json
    DMM_MAX_STATEMENTS_PER_AGREEMENT = var.max_statements_per_agreement != null ? tostring(var.max_statements_per_agreement) : ""
    DMM_MAX_RESOURCES_PER_AGREEMENT  = var.max_resources_per_agreement != null ? tostring(var.max_resources_per_agreement) : ""
    DMM_MAX_CHARACTERS_PER_AGREEMENT = var.max_characters_per_agreement != null ? tostring(var.max_characters_per_agreement) : ""
    # A hub (multi-account locals below); "" for a single account.
    DMM_MEMBER_ACCOUNTS               = join(",", var.member_account_ids)
    DMM_MEMBER_ROLE_NAME              = local.multi_account ? var.member_role_name : ""
    DMM_MEMBER_ROLE_PATH              = local.multi_account ? var.member_role_path : ""
    DMM_MEMBER_EXTERNAL_ID_SECRET_ARN = var.member_external_id_secret_arn == null ? "" : var.member_external_id_secret_arn
    DMM_ALLOWED_ACCOUNT_PAIRS         = join(",", [for pair in var.allowed_account_pairs : "${pair.consumer}:${pair.provider}"])
    DMM_MEMBER_ORGANIZATIONAL_UNITS   = join(",", var.member_organizational_unit_ids)
    DMM_ORGANIZATIONS_ROLE_ARN        = local.multi_account && var.organizations_role_arn != null ? var.organizations_role_arn : ""
    DMM_ATHENA_RESULTS_LOCATIONS      = length(var.athena_results_locations) > 0 ? jsonencode(var.athena_results_locations) : ""
  }
}

# A hub over member accounts (docs/multi-account.md, docs/adr/0010-multi-account.md): the IAM
# writers may assume each member's role, and nothing else in the member accounts; what a member
# role may do is the member's own (modules/member). Without member accounts this is empty and the
# deployment is the single-account one.
locals {
  multi_account = length(var.member_account_ids) > 0 || length(var.member_organizational_unit_ids) > 0
  from_units    = length(var.member_organizational_unit_ids) > 0

  # The hub's own account, when listed, is managed with the functions' own role: no role to assume.
  member_role_arns = [
    for id in var.member_account_ids : "arn:${local.partition}:iam::${id}:role${var.member_role_path}${var.member_role_name}"
    if id != local.account_id
  ]

  member_access_statements = concat(
    length(local.member_role_arns) == 0 ? [] : [
      {
        sid        = "AssumeMemberRoles"
        actions    = ["sts:AssumeRole"]
        resources  = local.member_role_arns
        conditions = []
      },
    ],
    # Members from OUs are not known here: the member role of any account, but only of accounts
    # under the OUs (the role's organization path names every OU above its account).
    local.from_units ? [
      {
        sid       = "AssumeMemberRolesInOrganizationalUnits"
        actions   = ["sts:AssumeRole"]
        resources = ["arn:${local.partition}:iam::*:role${var.member_role_path}${var.member_role_name}"]
        conditions = [{
          test     = "ForAnyValue:StringLike"
          variable = "aws:ResourceOrgPaths"
          values   = [for ou in var.member_organizational_unit_ids : "*/${ou}/*"]
        }]
      },
    ] : [],
    # Listing the OUs (src/accounts/organizations.ts): through the organizations role, or directly.
    local.from_units && var.organizations_role_arn != null ? [
      {
        sid        = "AssumeOrganizationsRole"
        actions    = ["sts:AssumeRole"]
        resources  = [var.organizations_role_arn]
        conditions = []
      },
    ] : [],
    local.from_units && var.organizations_role_arn == null ? [
      {
        sid        = "ListOrganizationalUnits"
        actions    = ["organizations:ListAccountsForParent", "organizations:ListOrganizationalUnitsForParent"]
        resources  = ["*"]
        conditions = []
      },
    ] : [],
    local.multi_account && var.member_external_id_secret_arn != null ? [
      {
        sid        = "ReadMemberExternalId"
        actions    = ["secretsmanager:GetSecretValue"]
        resources  = [var.member_external_id_secret_arn]
        conditions = []
      },
    ] : [],
  )
}
