# One least-privilege role per function. Every action granted here is one the code calls
# (the *_ACTIONS_USED lists in src/aws/, compared with these statements by test/terraform/),
# on the narrowest resources IAM can express. No statement grants a wildcard action.

locals {
  # Consumer roles the sync may change: every role under var.managed_role_path.
  managed_roles_arn = "arn:${local.partition}:iam::${local.account_id}:role${var.managed_role_path}*"

  # The customer-managed packs of ADR 0002 always live under the path /dmm-aws/.
  managed_packs_arn = "arn:${local.partition}:iam::${local.account_id}:policy/dmm-aws/*"

  # With managed_role_path = "/" the module's own roles match managed_roles_arn too.
  own_role_arns = [
    aws_iam_role.this["poll_feed"].arn,
    aws_iam_role.this["process_events"].arn,
    aws_iam_role.this["reconcile"].arn,
  ]
}

data "aws_iam_policy_document" "lambda_assume" {
  statement {
    sid     = "LambdaAssumesTheRole"
    effect  = "Allow"
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "this" {
  for_each = local.functions

  name                 = local.function_names[each.key]
  description          = "Execution role of ${local.function_names[each.key]}: ${each.value.role_description}"
  assume_role_policy   = data.aws_iam_policy_document.lambda_assume.json
  permissions_boundary = var.permissions_boundary_arn
  tags                 = local.tags
}

# ---------------------------------------------------------------------------------------------
# Logs: each function writes to its own log group only. The groups are created by the module
# (lambda.tf), so logs:CreateLogGroup is not needed. Metrics are embedded in the log lines (EMF)
# and need no cloudwatch:PutMetricData.
# ---------------------------------------------------------------------------------------------

data "aws_iam_policy_document" "logs" {
  for_each = local.function_names

  statement {
    sid       = "WriteOwnLogGroup"
    effect    = "Allow"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.this[each.key].arn}:*"]
  }
}

resource "aws_iam_role_policy" "logs" {
  for_each = local.function_names

  name   = "logs"
  role   = aws_iam_role.this[each.key].id
  policy = data.aws_iam_policy_document.logs[each.key].json
}

# ---------------------------------------------------------------------------------------------
# The API key: every function talks to Data Mesh Manager.
# ---------------------------------------------------------------------------------------------

data "aws_iam_policy_document" "read_api_key" {
  statement {
    sid       = "ReadApiKey"
    effect    = "Allow"
    actions   = ["secretsmanager:GetSecretValue"]
    resources = [local.api_key_secret_arn]
  }
}

resource "aws_iam_role_policy" "api_key" {
  for_each = local.function_names

  name   = "api-key"
  role   = aws_iam_role.this[each.key].id
  policy = data.aws_iam_policy_document.read_api_key.json
}

# ---------------------------------------------------------------------------------------------
# poll-feed: send to the event queue, read and write the checkpoint object.
# ---------------------------------------------------------------------------------------------

data "aws_iam_policy_document" "poll_feed" {
  statement {
    sid    = "SendEvents"
    effect = "Allow"
    # SendMessageBatch is authorised as sqs:SendMessage; there is no separate batch action.
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.events.arn]
  }

  statement {
    sid       = "ReadAndWriteCheckpoint"
    effect    = "Allow"
    actions   = ["s3:GetObject", "s3:PutObject"]
    resources = ["${aws_s3_bucket.state.arn}/${var.checkpoint_key}"]
  }

  # Without ListBucket, S3 answers a GetObject of a missing key with 403 AccessDenied instead of
  # 404 NoSuchKey, and the very first poll (no checkpoint yet) could not tell "absent" from
  # "forbidden". The bucket holds nothing but the sync's own state (the checkpoint and the
  # agreement index, whose keys are agreement ids).
  statement {
    sid       = "TellMissingCheckpointFromForbidden"
    effect    = "Allow"
    actions   = ["s3:ListBucket"]
    resources = [aws_s3_bucket.state.arn]
  }
}

resource "aws_iam_role_policy" "poll_feed" {
  name   = "poll-feed"
  role   = aws_iam_role.this["poll_feed"].id
  policy = data.aws_iam_policy_document.poll_feed.json
}

# ---------------------------------------------------------------------------------------------
# process-events: the SQS event source mapping polls the queue with the function's role.
# The dead-letter queue appears in no policy: only SQS itself moves messages there.
# ---------------------------------------------------------------------------------------------

data "aws_iam_policy_document" "process_events_queue" {
  # The event source mapping's rights; the handler also uses them to receive more messages than
  # the event source hands over, and to delete those once done (src/lambda/record-queue.ts).
  statement {
    sid    = "ConsumeEvents"
    effect = "Allow"
    actions = [
      "sqs:ChangeMessageVisibility",
      "sqs:DeleteMessage",
      "sqs:GetQueueAttributes",
      "sqs:ReceiveMessage",
    ]
    resources = [aws_sqs_queue.events.arn]
  }

  # An event an outage kept back is paused with a backoff (ChangeMessageVisibility, above) and,
  # on its last receive, put back on the same queue as a fresh message instead of being
  # dead-lettered (src/lambda/outage-retry.ts); the queue's URL is looked up from its ARN.
  statement {
    sid    = "RequeueOutageEvents"
    effect = "Allow"
    actions = [
      "sqs:GetQueueUrl",
      "sqs:SendMessage",
    ]
    resources = [aws_sqs_queue.events.arn]
  }
}

resource "aws_iam_role_policy" "process_events_queue" {
  name   = "event-queue"
  role   = aws_iam_role.this["process_events"].id
  policy = data.aws_iam_policy_document.process_events_queue.json
}

# ---------------------------------------------------------------------------------------------
# process-events and reconcile: the IAM writer rights (src/aws/iam-account.ts IAM_ACTIONS_USED),
# narrowed by the guardrails (guardrails.tf), and the resource tag reads of ownership proof
# (src/aws/resource-tags.ts RESOURCE_TAG_ACTIONS_USED), present unless ownership_proof = "off".
# ---------------------------------------------------------------------------------------------

data "aws_iam_policy_document" "iam_writer" {
  # ListRoles has no resource-level permissions: IAM only accepts "*" for it. The code lists with
  # PathPrefix = MANAGED_ROLE_PATH, and what it may change is limited by the statements below.
  statement {
    sid       = "ListRoles"
    effect    = "Allow"
    actions   = ["iam:ListRoles"]
    resources = ["*"]
  }

  # Reading is not limited by the required role tag: the full reconcile reads every role under
  # the path to find what agreements hold there (src/sync/reconcile-all.ts), and reports an
  # untagged role that still holds access as "cannot be removed" rather than failing as a whole.
  # GetRole also returns the tags the code checks the guardrail against. Reads change nothing.
  statement {
    sid    = "ReadManagedRoles"
    effect = "Allow"
    actions = [
      "iam:GetRole",
      "iam:GetRolePolicy",
      "iam:ListAttachedRolePolicies",
      "iam:ListRolePolicies",
    ]
    resources = [local.managed_roles_arn]
  }

  # Inline packs (dmm-aws-pack-<n>) and the reference integration's DMM_DataUsageAgreement_<id>
  # policies, which are adopted: rewritten, deleted. Only on roles carrying the required tag,
  # when one is required (guardrails.tf).
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

  # Attaching is limited to our own packs: without the condition this right would let the tool
  # attach any policy (AdministratorAccess, say) to a managed role.
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

  # Customer-managed packs /dmm-aws/dmm-aws-<role>-<n> (ADR 0002), and nothing outside that path.
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

  # The tool must never widen its own rights, whatever managed_role_path says and whatever a
  # data product's metadata names as its role: an explicit Deny wins over every Allow.
  statement {
    sid    = "NeverChangeOwnRoles"
    effect = "Deny"
    actions = [
      "iam:AttachRolePolicy",
      "iam:DeleteRolePolicy",
      "iam:DetachRolePolicy",
      "iam:PutRolePolicy",
    ]
    resources = local.own_role_arns
  }

  # Roles no data product may ever be granted on: the always-protected administration roles and
  # var.protected_role_names. The code refuses them first (DMM_PROTECTED_ROLES); this Deny holds
  # whatever managed_role_path and required_role_tag allow. Reads stay allowed, so that the code
  # can see and report what such a role holds.
  statement {
    sid    = "NeverChangeProtectedRoles"
    effect = "Deny"
    actions = [
      "iam:AttachRolePolicy",
      "iam:DeleteRolePolicy",
      "iam:DetachRolePolicy",
      "iam:PutRolePolicy",
    ]
    resources = local.protected_role_arns
  }

  # Ownership proof (var.ownership_proof, on by default): read the tags of provider buckets, Glue
  # databases and tables and KMS keys in the allowed resource accounts (guardrails.tf).
  dynamic "statement" {
    for_each = local.lake_formation_statements
    content {
      sid       = statement.value.sid
      effect    = "Allow"
      actions   = statement.value.actions
      resources = statement.value.resources
    }
  }

  dynamic "statement" {
    for_each = local.resource_tag_statements
    content {
      sid       = statement.value.sid
      effect    = "Allow"
      actions   = statement.value.actions
      resources = statement.value.resources

      dynamic "condition" {
        for_each = statement.value.conditions
        content {
          test     = condition.value.test
          variable = condition.value.variable
          values   = condition.value.values
        }
      }
    }
  }

  # A hub (member_account_ids, member_organizational_unit_ids; guardrails.tf): assume the member
  # roles, read the external ID they require, and list the OUs' accounts.
  dynamic "statement" {
    for_each = local.member_access_statements
    content {
      sid       = statement.value.sid
      effect    = "Allow"
      actions   = statement.value.actions
      resources = statement.value.resources

      dynamic "condition" {
        for_each = statement.value.conditions
        content {
          test     = condition.value.test
          variable = condition.value.variable
          values   = condition.value.values
        }
      }
    }
  }
}

# The same document for both IAM writers.
resource "aws_iam_role_policy" "iam_writer" {
  for_each = toset(["process_events", "reconcile"])

  name   = "iam-writer"
  role   = aws_iam_role.this[each.key].id
  policy = data.aws_iam_policy_document.iam_writer.json
}

# ---------------------------------------------------------------------------------------------
# process-events and reconcile: the agreement index (src/aws/agreement-index.ts
# INDEX_ACTIONS_USED), one object per agreement under local.agreement_index_prefix of the state
# bucket, and the target leases (src/aws/s3-target-leases.ts LEASE_ACTIONS_USED) under
# local.target_lease_prefix. Nothing else in the bucket: the checkpoint stays poll-feed's alone.
# ---------------------------------------------------------------------------------------------

data "aws_iam_policy_document" "agreement_index" {
  statement {
    sid       = "ReadAndWriteAgreementIndex"
    effect    = "Allow"
    actions   = ["s3:DeleteObject", "s3:GetObject", "s3:PutObject"]
    resources = ["${aws_s3_bucket.state.arn}/${local.agreement_index_prefix}*"]
  }

  # One lease object per role or resource policy, taken and given back with conditional writes
  # (If-None-Match / If-Match on PutObject, authorised as s3:PutObject); never deleted.
  statement {
    sid       = "TakeTargetLeases"
    effect    = "Allow"
    actions   = ["s3:GetObject", "s3:PutObject"]
    resources = ["${aws_s3_bucket.state.arn}/${local.target_lease_prefix}*"]
  }

  # As for the checkpoint: without ListBucket a missing entry answers 403 instead of 404, and an
  # agreement without an entry (every deleted one whose access is already gone) would look like a
  # broken index. No s3:prefix condition: S3 documents the 404 as depending on s3:ListBucket on
  # the bucket, and its existence check is no list request with an s3:prefix to match, so a
  # prefix-limited grant risks 403s in production that no test here could show. Listing reveals
  # only the key names of the sync's own state.
  statement {
    sid       = "TellMissingIndexEntryFromForbidden"
    effect    = "Allow"
    actions   = ["s3:ListBucket"]
    resources = [aws_s3_bucket.state.arn]
  }
}

resource "aws_iam_role_policy" "agreement_index" {
  for_each = toset(["process_events", "reconcile"])

  name   = "agreement-index"
  role   = aws_iam_role.this[each.key].id
  policy = data.aws_iam_policy_document.agreement_index.json
}
