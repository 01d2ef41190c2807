# The role a member account deploys for a dmm-aws hub (docs/multi-account.md). The hub assumes it
# with the external ID and may do nothing else here than:
#   - write the marked policies (inline packs, /dmm-aws/ managed packs) on consumer roles under
#     managed_role_path, never on the always-protected roles or on this role;
#   - add and remove its statements in the policies of this account's provider resources (bucket
#     policies, policies of keys tagged with ownership_tag_key, the Glue Data Catalog policy) and
#     read their tags for ownership proof;
#   - with lake_formation, grant and revoke Lake Formation permissions.
# Each statement mirrors an *_ACTIONS_USED list of src/aws/ (test/terraform/member.test.ts).

data "aws_caller_identity" "current" {}

data "aws_partition" "current" {}

locals {
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition
}

data "aws_iam_policy_document" "trust" {
  statement {
    sid     = "OnlyTheHubWithTheExternalId"
    effect  = "Allow"
    actions = ["sts:AssumeRole"]

    principals {
      type        = "AWS"
      identifiers = var.hub_role_arns
    }

    condition {
      test     = "StringEquals"
      variable = "sts:ExternalId"
      values   = [var.external_id]
    }
  }
}

resource "aws_iam_role" "member" {
  name                 = var.role_name
  path                 = var.role_path
  description          = "Assumed by the dmm-aws hub to grant data mesh access agreements in this account."
  assume_role_policy   = data.aws_iam_policy_document.trust.json
  max_session_duration = 3600
  tags                 = var.tags
}

data "aws_iam_policy_document" "member" {
  # ---- consumer side: identity policies on consumer roles (src/aws/iam-account.ts) ----

  # ListRoles has no resource-level permissions; the hub lists with PathPrefix = managed_role_path.
  statement {
    sid       = "ListRoles"
    effect    = "Allow"
    actions   = ["iam:ListRoles"]
    resources = ["*"]
  }

  statement {
    sid       = "ReadManagedRoles"
    effect    = "Allow"
    actions   = ["iam:GetRole", "iam:GetRolePolicy", "iam:ListAttachedRolePolicies", "iam:ListRolePolicies"]
    resources = [local.managed_roles_arn]
  }

  statement {
    sid       = "WriteInlinePacksOnManagedRoles"
    effect    = "Allow"
    actions   = ["iam:DeleteRolePolicy", "iam:PutRolePolicy"]
    resources = [local.managed_roles_arn]

    dynamic "condition" {
      for_each = local.required_role_tag_conditions
      content {
        test     = condition.value.test
        variable = condition.value.variable
        values   = condition.value.values
      }
    }
  }

  # Only the hub's own packs: otherwise this right would attach any policy to a consumer role.
  statement {
    sid       = "AttachOnlyOwnPacksToManagedRoles"
    effect    = "Allow"
    actions   = ["iam:AttachRolePolicy", "iam:DetachRolePolicy"]
    resources = [local.managed_roles_arn]

    condition {
      test     = "ArnLike"
      variable = "iam:PolicyARN"
      values   = [local.managed_packs_arn]
    }

    dynamic "condition" {
      for_each = local.required_role_tag_conditions
      content {
        test     = condition.value.test
        variable = condition.value.variable
        values   = condition.value.values
      }
    }
  }

  statement {
    sid    = "ManagedPacks"
    effect = "Allow"
    actions = [
      "iam:CreatePolicy",
      "iam:CreatePolicyVersion",
      "iam:DeletePolicy",
      "iam:DeletePolicyVersion",
      "iam:GetPolicy",
      "iam:GetPolicyVersion",
      "iam:ListPolicyVersions",
    ]
    resources = [local.managed_packs_arn]
  }

  # Never this role itself (so a compromised hub cannot widen it) nor the administration roles.
  statement {
    sid       = "NeverChangeProtectedRoles"
    effect    = "Deny"
    actions   = ["iam:AttachRolePolicy", "iam:DeleteRolePolicy", "iam:DetachRolePolicy", "iam:PutRolePolicy"]
    resources = local.protected_role_arns
  }

  # ---- provider side: resource policies and tags (src/aws/resource-policies.ts, resource-tags.ts) ----

  # How the hub finds which member owns a bucket (a bucket ARN names no account).
  statement {
    sid       = "FindOwnBuckets"
    effect    = "Allow"
    actions   = ["s3:ListAllMyBuckets"]
    resources = ["*"]
  }

  statement {
    sid       = "WriteStatementsInOwnBucketPolicies"
    effect    = "Allow"
    actions   = ["s3:DeleteBucketPolicy", "s3:GetBucketPolicy", "s3:GetBucketTagging", "s3:PutBucketPolicy"]
    resources = local.provider_bucket_arns

    condition {
      test     = "StringEquals"
      variable = "s3:ResourceAccount"
      values   = [local.account_id]
    }
  }

  # Only keys a data product claims by tag: the hub never touches the policy of any other key.
  statement {
    sid       = "WriteStatementsInTaggedKeyPolicies"
    effect    = "Allow"
    actions   = ["kms:GetKeyPolicy", "kms:PutKeyPolicy"]
    resources = ["arn:${local.partition}:kms:*:${local.account_id}:key/*"]

    condition {
      test     = "Null"
      variable = "aws:ResourceTag/${var.ownership_tag_key}"
      values   = ["false"]
    }
  }

  statement {
    sid       = "ReadKeyTags"
    effect    = "Allow"
    actions   = ["kms:ListResourceTags"]
    resources = ["arn:${local.partition}:kms:*:${local.account_id}:key/*"]
  }

  statement {
    sid       = "WriteStatementsInCatalogPolicy"
    effect    = "Allow"
    actions   = ["glue:DeleteResourcePolicy", "glue:GetResourcePolicy", "glue:PutResourcePolicy"]
    resources = ["arn:${local.partition}:glue:*:${local.account_id}:catalog"]
  }

  statement {
    sid    = "ReadGlueTags"
    effect = "Allow"
    actions = [
      "glue:GetTags",
    ]
    resources = [
      "arn:${local.partition}:glue:*:${local.account_id}:database/*",
      "arn:${local.partition}:glue:*:${local.account_id}:table/*/*",
    ]
  }

  # Ownership proof of streams, tables and MSK clusters (Kafka topics carry no tags: a topic is
  # proven by its cluster's).
  statement {
    sid     = "ReadStreamTableAndClusterTags"
    effect  = "Allow"
    actions = ["dynamodb:ListTagsOfResource", "kafka:ListTagsForResource", "kinesis:ListTagsForStream"]
    resources = [
      "arn:${local.partition}:kinesis:*:${local.account_id}:stream/*",
      "arn:${local.partition}:dynamodb:*:${local.account_id}:table/*",
      "arn:${local.partition}:kafka:*:${local.account_id}:cluster/*/*",
    ]
  }

  # Lake Formation has no resource-level IAM permissions: its own grants decide what this role may grant.
  dynamic "statement" {
    for_each = local.lake_formation_statements
    content {
      sid       = statement.value.sid
      effect    = "Allow"
      actions   = statement.value.actions
      resources = ["*"]
    }
  }
}

resource "aws_iam_role_policy" "member" {
  name   = "dmm-aws-member"
  role   = aws_iam_role.member.id
  policy = data.aws_iam_policy_document.member.json
}
