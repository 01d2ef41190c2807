# ---------------------------------------------------------------------------------------------
# Naming and packaging
# ---------------------------------------------------------------------------------------------

variable "name_prefix" {
  description = "Prefix of every resource name (functions, roles, queues, log groups, alarms, bucket). Lower case, so that it is valid in an S3 bucket name too."
  type        = string
  default     = "dmm-aws"

  validation {
    # The longest derived names must stay within AWS limits: "<prefix>-process-events" as a role
    # and function name (64), "<prefix>-state-<account>-<region>" as a bucket name (63).
    condition     = can(regex("^[a-z][a-z0-9-]{0,18}[a-z0-9]$", var.name_prefix))
    error_message = "name_prefix must be 2-20 characters of a-z, 0-9 and '-', start with a letter and not end with '-'."
  }
}

variable "tags" {
  description = "Tags added to every resource the module creates."
  type        = map(string)
  default     = {}
}

variable "dist_dir" {
  description = "Directory holding poll-feed.zip, process-events.zip and reconcile.zip from `npm run build`. null means the repository's dist/ next to this module (\"$${path.module}/../dist\"); a variable default cannot refer to path.module, hence null."
  type        = string
  default     = null
}

# ---------------------------------------------------------------------------------------------
# Data Mesh Manager
# ---------------------------------------------------------------------------------------------

variable "dmm_base_url" {
  description = "Data Mesh Manager / Entropy Data API base URL (DMM_BASE_URL). Older installations use https://api.datamesh-manager.com; self-hosted instances work too."
  type        = string
  default     = "https://api.entropy-data.com"

  validation {
    condition     = can(regex("^https?://[^/?#\\s]+(/[^?#\\s]*)?$", var.dmm_base_url)) && !endswith(var.dmm_base_url, "/")
    error_message = "dmm_base_url must be an http(s) URL without query, fragment or trailing slash, e.g. https://api.entropy-data.com."
  }
}

variable "dmm_api_generation" {
  description = "Which agreement API to use (DMM_API_GENERATION): auto (detect once), access (/api/access, 2025+) or datausageagreements (2024 and earlier)."
  type        = string
  default     = "auto"

  validation {
    condition     = contains(["auto", "access", "datausageagreements"], var.dmm_api_generation)
    error_message = "dmm_api_generation must be one of auto, access, datausageagreements."
  }
}

variable "dmm_api_key" {
  description = "Data Mesh Manager API key. When set, the module creates a Secrets Manager secret holding it. It is stored in the Terraform state: protect the state, or create the secret yourself and pass dmm_api_key_secret_arn instead. Set exactly one of the two."
  type        = string
  default     = null
  sensitive   = true

  validation {
    condition     = var.dmm_api_key == null || length(trimspace(coalesce(var.dmm_api_key, " "))) > 0
    error_message = "dmm_api_key must not be empty; leave it null to use dmm_api_key_secret_arn."
  }
}

variable "dmm_api_key_secret_arn" {
  description = "Full ARN (with its 6-character suffix) of an existing Secrets Manager secret holding the API key, as a plain string or as JSON {\"apiKey\": \"...\"}. Set exactly one of dmm_api_key and dmm_api_key_secret_arn."
  type        = string
  default     = null

  validation {
    condition     = var.dmm_api_key_secret_arn == null || can(regex("^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:[0-9]{12}:secret:[A-Za-z0-9/_+=.@-]+-[A-Za-z0-9]{6}$", coalesce(var.dmm_api_key_secret_arn, "-")))
    error_message = "dmm_api_key_secret_arn must be a complete secret ARN, arn:aws:secretsmanager:<region>:<account>:secret:<name>-<6 characters> (a partial ARN cannot be scoped exactly in IAM)."
  }
}

# ---------------------------------------------------------------------------------------------
# What the sync may change
# ---------------------------------------------------------------------------------------------

variable "managed_role_path" {
  description = "IAM path prefix of the consumer roles the sync may manage (MANAGED_ROLE_PATH), e.g. /data-products/. \"/\" allows every role in the account (except the module's own, which are denied explicitly); a dedicated path is strongly recommended."
  type        = string
  default     = "/"

  validation {
    # The value becomes part of IAM policy resources: "*", "?" and "${...}" there would be
    # wildcards or policy variables, so only plain path characters are accepted.
    condition     = length(var.managed_role_path) <= 512 && can(regex("^/([A-Za-z0-9_+=,.@-]+/)*$", var.managed_role_path))
    error_message = "managed_role_path must start and end with '/', e.g. / or /data-products/, with segments of A-Z, a-z, 0-9 and _+=,.@- only."
  }
}

# The guardrails of src/sync/guardrails.ts: limits on what Data Mesh Manager metadata can make
# the sync do. The functions enforce them (a refused agreement fails with the reason), and the
# IAM policy in iam.tf enforces the role-level ones a second time. See docs/deployment.md,
# "Guardrails".

variable "required_role_tag" {
  description = "Only roles carrying this tag are written (DMM_REQUIRED_ROLE_TAG), enforced in the code and by an IAM condition on the functions' role writes. {key = \"dmm-aws:managed\"} requires the key with any value; {key = ..., value = ...} requires that exact value. null (default): no tag is required."
  type = object({
    key   = string
    value = optional(string)
  })
  default = null

  validation {
    # The key becomes part of the IAM condition key aws:ResourceTag/<key>, and "key=value" is the
    # environment format: IAM tag characters without "=", "*", "?" or "$" (wildcards, variables).
    condition = var.required_role_tag == null || (
      can(regex("^[A-Za-z0-9 _.:/+@-]{1,128}$", try(var.required_role_tag.key, ""))) &&
      !startswith(lower(try(var.required_role_tag.key, "")), "aws:")
    )
    error_message = "required_role_tag.key must be 1-128 characters of A-Z, a-z, 0-9, space and _.:/+@- (no '=', '*', '?' or '$') and must not start with aws:."
  }

  validation {
    condition     = try(var.required_role_tag.value, null) == null || can(regex("^[A-Za-z0-9 _.:/=+@-]{1,256}$", try(var.required_role_tag.value, "")))
    error_message = "required_role_tag.value must be null (any value) or 1-256 characters of A-Z, a-z, 0-9, space and _.:/=+@-."
  }
}

variable "protected_role_names" {
  description = "Role names the sync never writes, in addition to the always-protected ones (OrganizationAccountAccessRole, AWSReservedSSO_*, AWSServiceRoleFor*, Control Tower and StackSets roles) and the module's own three roles (DMM_PROTECTED_ROLES). A trailing * matches a prefix. Enforced in the code and by an explicit IAM Deny."
  type        = list(string)
  default     = []

  validation {
    # The code treats only a trailing "*" as a wildcard; IAM would treat one anywhere as a
    # wildcard too, so both agree only if "*" is allowed at the end alone.
    condition     = alltrue([for name in var.protected_role_names : can(regex("^[A-Za-z0-9_+=,.@-]{1,64}\\*?$", name))])
    error_message = "protected_role_names must be IAM role names (1-64 characters of A-Z, a-z, 0-9 and _+=,.@-), optionally ending in * to match a prefix."
  }
}

variable "allowed_resource_account_ids" {
  description = "Accounts whose resources (buckets, Glue tables) agreements may grant (DMM_ALLOWED_RESOURCE_ACCOUNTS). [] (default): the deployment's own account only. [\"*\"]: any account."
  type        = list(string)
  default     = []

  validation {
    condition     = var.allowed_resource_account_ids == tolist(["*"]) || alltrue([for id in var.allowed_resource_account_ids : can(regex("^[0-9]{12}$", id))])
    error_message = "allowed_resource_account_ids must be 12-digit account ids, or exactly [\"*\"] for any account."
  }
}

# Ownership proof (src/sync/ownership-proof.ts), on by default: a provider resource (bucket or
# folder, Glue database or table, KMS key, ...) is granted only when it is shown to belong to the
# provider data product, by its ownership tag or by an allow-list entry. See docs/deployment.md,
# "Ownership proof", and docs/security.md.

variable "ownership_proof" {
  description = "Ownership proof (DMM_OWNERSHIP_PROOF): \"required\" (default) grants a provider resource only when its ownership tag (ownership_tag_key, or ownership_team_tag_key) names the provider data product (or its owner team), or an ownership_allow_list entry covers it; process-events and reconcile may then read the tags of buckets, Glue databases and tables and KMS keys in the allowed resource accounts. \"off\" grants whatever the metadata names in those accounts (stated in every plan and in the functions' logs) and removes the tag reads."
  type        = string
  default     = "required"

  validation {
    condition     = contains(["required", "off"], coalesce(var.ownership_proof, "-"))
    error_message = "ownership_proof must be \"required\" or \"off\"."
  }
}

variable "ownership_tag_key" {
  description = "Tag key on provider resources naming the provider data product id(s), comma-separated for a resource several data products share (DMM_OWNERSHIP_TAG_KEY). Only S3 bucket tags count for a bucket's folders."
  type        = string
  default     = "dmm:data-product"

  validation {
    # Before ownership proof was on by default, null turned it off; that is ownership_proof = "off"
    # now, and a null key is refused rather than silently replaced by the default.
    condition     = can(regex("^[A-Za-z0-9 _.:/=+@-]{1,128}$", var.ownership_tag_key))
    error_message = "ownership_tag_key must be a tag key of 1-128 characters of A-Z, a-z, 0-9, space and _.:/=+@- (not null: to turn ownership proof off, set ownership_proof = \"off\")."
  }
}

variable "ownership_team_tag_key" {
  description = "Optional second tag key on provider resources naming the owner team id(s) of the provider data product, comma-separated (DMM_OWNERSHIP_TEAM_TAG_KEY): a resource tagged with the provider's owner team is proven too. null (default): only ownership_tag_key counts."
  type        = string
  default     = null

  validation {
    # (coalesce would turn "" into the fallback, so the value is matched directly; can() is false for null.)
    condition     = var.ownership_team_tag_key == null || can(regex("^[A-Za-z0-9 _.:/=+@-]{1,128}$", var.ownership_team_tag_key))
    error_message = "ownership_team_tag_key must be null or a tag key of 1-128 characters of A-Z, a-z, 0-9, space and _.:/=+@-."
  }
}

variable "ownership_allow_list" {
  description = "Operator allow-list of ownership proof (DMM_OWNERSHIP_ALLOW_LIST): each entry names exactly one of data_product (a data product id) or team (an owner team id) and the ARN patterns of the provider resources it owns without tags, e.g. { team = \"sales\", resources = [\"arn:aws:s3:::sales-lake/orders/*\"] }. In patterns \"*\" and \"?\" are wildcards; the service part (arn:<partition>:<service>:) must be named. [] (default): none."
  type = list(object({
    data_product = optional(string)
    team         = optional(string)
    resources    = list(string)
  }))
  default  = []
  nullable = false

  validation {
    condition = alltrue([
      for entry in var.ownership_allow_list :
      (entry.data_product == null) != (entry.team == null) &&
      length(trimspace(coalesce(entry.data_product, entry.team, " "))) > 0
    ])
    error_message = "Each ownership_allow_list entry must name exactly one of data_product and team, and not an empty one."
  }

  validation {
    condition     = alltrue([for entry in var.ownership_allow_list : length(entry.resources) > 0])
    error_message = "Each ownership_allow_list entry must list at least one resource ARN pattern."
  }

  validation {
    # arn:<partition>:<service>:... with the service named: a pattern such as arn:aws:*:... or
    # "*" would stand for every kind of resource, which is never one provider's.
    condition = alltrue(flatten([
      for entry in var.ownership_allow_list : [
        for pattern in entry.resources : can(regex("^arn:aws[a-z-]*:[a-z0-9-]+:[^\\s]*$", pattern)) && try(length(pattern) <= 2048, false)
      ]
    ]))
    error_message = "ownership_allow_list resources must be ARN patterns arn:<partition>:<service>:..., in a real partition (aws, aws-cn, aws-us-gov, ...), with the service named (no '*' or '?' in it), no whitespace and at most 2048 characters, e.g. arn:aws:s3:::sales-lake/orders/*."
  }
}

variable "max_statements_per_agreement" {
  description = "Most IAM statements one agreement may grant (DMM_MAX_STATEMENTS_PER_AGREEMENT), 1-100. null (default): the code's default, 16."
  type        = number
  default     = null

  validation {
    condition     = var.max_statements_per_agreement == null || try(var.max_statements_per_agreement >= 1 && var.max_statements_per_agreement <= 100 && floor(var.max_statements_per_agreement) == var.max_statements_per_agreement, false)
    error_message = "max_statements_per_agreement must be null or a whole number from 1 to 100."
  }
}

variable "max_resources_per_agreement" {
  description = "Most resource ARNs one agreement may grant (DMM_MAX_RESOURCES_PER_AGREEMENT), 1-1000. null (default): the code's default, 32."
  type        = number
  default     = null

  validation {
    condition     = var.max_resources_per_agreement == null || try(var.max_resources_per_agreement >= 1 && var.max_resources_per_agreement <= 1000 && floor(var.max_resources_per_agreement) == var.max_resources_per_agreement, false)
    error_message = "max_resources_per_agreement must be null or a whole number from 1 to 1000."
  }
}

variable "max_characters_per_agreement" {
  description = "Most policy characters (whitespace not counted) one agreement's statements may take (DMM_MAX_CHARACTERS_PER_AGREEMENT), 100-10240. null (default): the code's default, 4096."
  type        = number
  default     = null

  validation {
    condition     = var.max_characters_per_agreement == null || try(var.max_characters_per_agreement >= 100 && var.max_characters_per_agreement <= 10240 && floor(var.max_characters_per_agreement) == var.max_characters_per_agreement, false)
    error_message = "max_characters_per_agreement must be null or a whole number from 100 to 10240."
  }
}

variable "athena_workgroup" {
  description = "Athena workgroup consumers query Glue tables with when a port names none (DMM_ATHENA_WORKGROUP). null (default): none; a Glue port that names no workgroup is refused with a diagnostic naming the missing field, so that no workgroup is granted that nobody named."
  type        = string
  default     = null

  validation {
    # (can() is false for null, so null is allowed explicitly.)
    condition     = var.athena_workgroup == null || can(regex("^[A-Za-z0-9._-]{1,128}$", var.athena_workgroup))
    error_message = "athena_workgroup must be null or 1-128 characters of A-Z, a-z, 0-9, '.', '_' and '-'."
  }
}

variable "athena_results_location" {
  description = "s3://bucket/prefix/ for consumers' Athena query results (DMM_ATHENA_RESULTS_LOCATION). When set, each Glue grant includes read/write on the consumer role's own folder <prefix><role name>/ only. null: not set (workgroups with managed query results)."
  type        = string
  default     = null

  validation {
    condition     = var.athena_results_location == null || can(regex("^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](/[^*?$]*)?/$", coalesce(var.athena_results_location, "-")))
    error_message = "athena_results_location must look like s3://bucket/prefix/ (ending in '/', no '*', '?' or '$')."
  }
}

variable "data_contract_server" {
  description = "For output ports without a server block of their own, described by their data contract: the contract server (its `server` name) to grant from when several fit (DMM_DATA_CONTRACT_SERVER). null (default): no name filter."
  type        = string
  default     = null

  validation {
    condition     = var.data_contract_server == null || can(regex("^[^\\s][^\\x00-\\x1f]{0,254}$", var.data_contract_server))
    error_message = "data_contract_server must be null or a server name of 1-255 characters, not starting with a space."
  }
}

variable "data_contract_environment" {
  description = "For output ports described by their data contract: only contract servers of this environment (e.g. prod) are granted from (DMM_DATA_CONTRACT_ENVIRONMENT). null (default): when several servers fit, the one whose environment is prod or production, else the agreement is refused naming the candidates."
  type        = string
  default     = null

  validation {
    condition     = var.data_contract_environment == null || can(regex("^[^\\s][^\\x00-\\x1f]{0,254}$", var.data_contract_environment))
    error_message = "data_contract_environment must be null or an environment name of 1-255 characters, not starting with a space."
  }
}

variable "glue_tables_governed_by" {
  description = "Who governs the Glue tables ports name (DMM_GLUE_TABLES_GOVERNED_BY): \"iam\" (default; a grant reads the table's S3 data with IAM) or \"lake-formation\" (Lake Formation SELECT and DESCRIBE on the table, DESCRIBE on its database; the functions get lakeformation:GrantPermissions, RevokePermissions and ListPermissions and must be Lake Formation data lake administrators, or hold the permissions with grant option). docs/adr/0012-lake-formation-tables.md."
  type        = string
  default     = "iam"

  validation {
    condition     = contains(["iam", "lake-formation"], var.glue_tables_governed_by)
    error_message = "glue_tables_governed_by must be \"iam\" or \"lake-formation\"."
  }
}

# ---------------------------------------------------------------------------------------------
# Schedules and polling
# ---------------------------------------------------------------------------------------------

variable "schedules_enabled" {
  description = "Whether the poll and reconcile schedules run. Deploy first with false, check a dry run of reconcile, then set true (see docs/deployment.md)."
  type        = bool
  default     = true
}

variable "poll_schedule_expression" {
  description = "EventBridge schedule of poll-feed."
  type        = string
  default     = "rate(1 minute)"

  validation {
    condition     = can(regex("^(rate|cron)\\(.+\\)$", var.poll_schedule_expression))
    error_message = "poll_schedule_expression must be an EventBridge rate(...) or cron(...) expression."
  }
}

variable "reconcile_schedule_expression" {
  description = "EventBridge schedule of the full reconcile."
  type        = string
  default     = "rate(1 hour)"

  validation {
    condition     = can(regex("^(rate|cron)\\(.+\\)$", var.reconcile_schedule_expression))
    error_message = "reconcile_schedule_expression must be an EventBridge rate(...) or cron(...) expression."
  }
}

variable "poll_repeat_seconds" {
  description = "POLL_REPEAT_SECONDS: N keeps polling every N seconds until the invocation's time budget is nearly spent (with the default timeout an activation reaches IAM within ~4 s at the median and ~7 s at p95, instead of ~32 s and ~59 s; poll-feed is then billed ~55 s per minute, about 8 USD a month at 256 MB on arm64 before the free tier); 0 polls once per invocation until caught up."
  type        = number
  default     = 5

  validation {
    condition     = var.poll_repeat_seconds >= 0 && var.poll_repeat_seconds <= 600 && floor(var.poll_repeat_seconds) == var.poll_repeat_seconds
    error_message = "poll_repeat_seconds must be a whole number from 0 to 600."
  }
}

variable "checkpoint_key" {
  description = "Object key of poll-feed's checkpoint (the id of the last queued event) in the state bucket."
  type        = string
  default     = "checkpoint/last-event-id.json"

  validation {
    # (RE2 caps repetition counts at 1000, hence the separate length check.)
    condition     = length(var.checkpoint_key) <= 1024 && can(regex("^[A-Za-z0-9!_.()-][A-Za-z0-9!_.()/-]*$", var.checkpoint_key))
    error_message = "checkpoint_key must be a relative object key of letters, digits and !_.()/- (no '*' or '?', which would be wildcards in the IAM policy)."
  }
}

# ---------------------------------------------------------------------------------------------
# Functions
# ---------------------------------------------------------------------------------------------

variable "poll_feed_memory_mb" {
  description = "Memory of poll-feed in MB."
  type        = number
  default     = 256

  validation {
    condition     = var.poll_feed_memory_mb >= 128 && var.poll_feed_memory_mb <= 10240
    error_message = "poll_feed_memory_mb must be between 128 and 10240."
  }
}

variable "poll_feed_timeout_seconds" {
  description = "Timeout of poll-feed in seconds. The function stops reading the feed 15 s before it, with a consistent checkpoint; with poll_repeat_seconds = 5 its last poll starts 20 s before it. 75 keeps each run polling until ~55 s into its minute, so no part of the minute goes unpolled and an activation reaches IAM within ~7 s at p95 (BENCH=deployedLatency npm run bench); 60 left 20 s of every minute unpolled (p95 ~18 s). A caught-up run ends before the next one starts; a run reading a backlog may overlap the next one, which the checkpoint's conditional write and the FIFO queue's deduplication make harmless."
  type        = number
  default     = 75

  validation {
    condition     = var.poll_feed_timeout_seconds >= 10 && var.poll_feed_timeout_seconds <= 900
    error_message = "poll_feed_timeout_seconds must be between 10 and 900."
  }
}

variable "process_events_memory_mb" {
  description = "Memory of process-events in MB."
  type        = number
  default     = 256

  validation {
    condition     = var.process_events_memory_mb >= 128 && var.process_events_memory_mb <= 10240
    error_message = "process_events_memory_mb must be between 128 and 10240."
  }
}

variable "process_events_timeout_seconds" {
  description = "Timeout of process-events in seconds. The queue's visibility timeout is six times this value."
  type        = number
  default     = 60

  validation {
    # 6 x 900 s = 5,400 s, well within SQS's 12-hour visibility timeout maximum.
    condition     = var.process_events_timeout_seconds >= 10 && var.process_events_timeout_seconds <= 900
    error_message = "process_events_timeout_seconds must be between 10 and 900."
  }
}

variable "process_events_concurrency" {
  description = "Reserved concurrency of process-events: how many batches are handled side by side. Each role and resource policy is written under a lease in the state bucket, so any value is safe; more than 1 helps only with a backlog spread over many agreements (one agreement's events are always handled in order)."
  type        = number
  default     = 1

  validation {
    condition     = var.process_events_concurrency >= 1 && var.process_events_concurrency <= 100 && floor(var.process_events_concurrency) == var.process_events_concurrency
    error_message = "process_events_concurrency must be a whole number from 1 to 100."
  }
}

variable "reconcile_memory_mb" {
  description = "Memory of reconcile in MB. A full reconcile holds every agreement and role in memory (~380 MiB of heap for 100,000 agreements on 10,000 roles); Lambda also gives CPU in proportion to memory, so a run at 1024 takes about half as long as at 512 for the same cost."
  type        = number
  default     = 1024

  validation {
    condition     = var.reconcile_memory_mb >= 128 && var.reconcile_memory_mb <= 10240
    error_message = "reconcile_memory_mb must be between 128 and 10240."
  }
}

variable "reconcile_timeout_seconds" {
  description = "Timeout of reconcile in seconds (Lambda's maximum, 900, by default)."
  type        = number
  default     = 900

  validation {
    condition     = var.reconcile_timeout_seconds >= 60 && var.reconcile_timeout_seconds <= 900
    error_message = "reconcile_timeout_seconds must be between 60 and 900."
  }
}

variable "log_level" {
  description = "POWERTOOLS_LOG_LEVEL of all functions."
  type        = string
  default     = "INFO"

  validation {
    condition     = contains(["TRACE", "DEBUG", "INFO", "WARN", "ERROR", "CRITICAL", "SILENT"], var.log_level)
    error_message = "log_level must be one of TRACE, DEBUG, INFO, WARN, ERROR, CRITICAL, SILENT."
  }
}

variable "metrics_namespace" {
  description = "CloudWatch metrics namespace of the functions' own metrics (POWERTOOLS_METRICS_NAMESPACE)."
  type        = string
  default     = "dmm-aws"

  validation {
    condition     = can(regex("^[A-Za-z0-9._/#:-]{1,255}$", var.metrics_namespace)) && !startswith(var.metrics_namespace, "AWS/")
    error_message = "metrics_namespace must be 1-255 characters of A-Z, a-z, 0-9 and ._/#:- and must not start with AWS/."
  }
}

variable "permissions_boundary_arn" {
  description = "Optional permissions boundary attached to the module's three roles (for organisations that require one)."
  type        = string
  default     = null

  validation {
    condition     = var.permissions_boundary_arn == null || can(regex("^arn:aws[a-z-]*:iam::([0-9]{12}|aws):policy/.+$", coalesce(var.permissions_boundary_arn, "-")))
    error_message = "permissions_boundary_arn must be an IAM policy ARN."
  }
}

# ---------------------------------------------------------------------------------------------
# Queue
# ---------------------------------------------------------------------------------------------

variable "batch_size" {
  description = "Messages per process-events invocation (SQS FIFO allows at most 10)."
  type        = number
  default     = 10

  validation {
    condition     = var.batch_size >= 1 && var.batch_size <= 10 && floor(var.batch_size) == var.batch_size
    error_message = "batch_size must be a whole number from 1 to 10."
  }
}

variable "process_events_max_batch_events" {
  description = "Events one process-events invocation converges together. The SQS event source hands over at most batch_size (10) FIFO messages; the function receives the rest from the queue itself, while at least 30 s of its timeout are left. Bigger batches read and write each role once for more agreements (docs/adr/0020-topped-up-batches.md); 10 or less turns this off."
  type        = number
  default     = 100

  validation {
    condition     = var.process_events_max_batch_events >= 1 && var.process_events_max_batch_events <= 1000 && floor(var.process_events_max_batch_events) == var.process_events_max_batch_events
    error_message = "process_events_max_batch_events must be a whole number from 1 to 1000."
  }
}

variable "max_receive_count" {
  description = "Attempts per event before SQS moves it to the dead-letter queue (the redrive maxReceiveCount, passed to process-events as MAX_RECEIVE_COUNT so that the last attempt reports the failure to Data Mesh Manager). Receives spent on an outage do not count: process-events puts such an event back as a fresh message."
  type        = number
  default     = 5

  validation {
    condition     = var.max_receive_count >= 1 && var.max_receive_count <= 1000 && floor(var.max_receive_count) == var.max_receive_count
    error_message = "max_receive_count must be a whole number from 1 to 1000."
  }
}

# ---------------------------------------------------------------------------------------------
# State bucket
# ---------------------------------------------------------------------------------------------

variable "state_bucket_name" {
  description = "Name of the state bucket the module creates. null: \"<name_prefix>-state-<account id>-<region>\"."
  type        = string
  default     = null

  validation {
    condition     = var.state_bucket_name == null || can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", coalesce(var.state_bucket_name, "-")))
    error_message = "state_bucket_name must be a valid S3 bucket name (3-63 characters of a-z, 0-9, '.' and '-')."
  }
}

variable "state_bucket_force_destroy" {
  description = "Allow terraform destroy to delete the state bucket with its objects and versions. Set true (and apply) only when tearing down."
  type        = bool
  default     = false
}

# ---------------------------------------------------------------------------------------------
# Logs and alarms
# ---------------------------------------------------------------------------------------------

variable "log_retention_days" {
  description = "Retention of the functions' CloudWatch log groups in days."
  type        = number
  default     = 30

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be a value CloudWatch Logs accepts: 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288 or 3653."
  }
}

variable "outage_alarm_periods" {
  description = "Consecutive 5-minute periods in which process-events met an outage (its Outages metric) before the outages alarm fires. Outage-kept events are retried, never dead-lettered, so this alarm is what tells a human the sync has stopped converging. Default 3: 15 minutes."
  type        = number
  default     = 3

  validation {
    # CloudWatch allows evaluation over at most one day of 5-minute periods.
    condition     = var.outage_alarm_periods >= 1 && var.outage_alarm_periods <= 288 && floor(var.outage_alarm_periods) == var.outage_alarm_periods
    error_message = "outage_alarm_periods must be a whole number from 1 to 288 (5-minute periods, at most one day)."
  }
}

variable "alarm_actions" {
  description = "ARNs notified when an alarm fires and when it recovers, typically one SNS topic. Empty: the alarms exist but notify nobody."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for arn in var.alarm_actions : can(regex("^arn:aws[a-z-]*:", arn))])
    error_message = "alarm_actions must be ARNs, e.g. arn:aws:sns:eu-central-1:123456789012:ops-alerts."
  }
}

# ---------------------------------------------------------------------------------------------
# Multi-account hub (docs/multi-account.md): the member accounts whose roles and resources the
# functions manage through each member's role (terraform/modules/member).
# ---------------------------------------------------------------------------------------------

variable "member_account_ids" {
  description = "Member accounts the hub manages (DMM_MEMBER_ACCOUNTS); each deploys modules/member. Empty (default): the functions manage the account they run in, as a single-account deployment. The hub's own account is managed only when listed (with the functions' own role)."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for id in var.member_account_ids : can(regex("^\\d{12}$", id))])
    error_message = "member_account_ids must be 12-digit AWS account ids."
  }
}

variable "member_role_name" {
  description = "Name of the role each member account deploys for the hub (DMM_MEMBER_ROLE_NAME); modules/member's role_name."
  type        = string
  default     = "dmm-aws-member"

  validation {
    condition     = can(regex("^[A-Za-z0-9+=,.@_-]{1,64}$", var.member_role_name))
    error_message = "member_role_name must be an IAM role name (1-64 letters, digits and +=,.@_-)."
  }
}

variable "member_role_path" {
  description = "IAM path of the member role (DMM_MEMBER_ROLE_PATH); modules/member's role_path."
  type        = string
  default     = "/"

  validation {
    condition     = can(regex("^/([A-Za-z0-9+=,.@_-]+/)*$", var.member_role_path))
    error_message = "member_role_path must start and end with / and contain only letters, digits and +=,.@_-."
  }
}

variable "member_external_id_secret_arn" {
  description = "ARN of a Secrets Manager secret whose plain-text value is the external ID the member roles require (DMM_MEMBER_EXTERNAL_ID_SECRET_ARN). Required when member_account_ids is set. Created outside this module, so the value never enters this module's state."
  type        = string
  default     = null

  validation {
    condition     = var.member_external_id_secret_arn == null || can(regex("^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\\d{12}:secret:.+$", coalesce(var.member_external_id_secret_arn, "-")))
    error_message = "member_external_id_secret_arn must be null or a Secrets Manager secret ARN."
  }
}

variable "member_organizational_unit_ids" {
  description = "AWS Organizations OUs whose ACTIVE accounts are members too, nested OUs included (DMM_MEMBER_ORGANIZATIONAL_UNITS); each such account deploys modules/member (e.g. from the account factory); an account joins once its member role can be assumed. Listed again at most every 5 minutes, so an account joins or leaves without a redeploy. The hub's own account is a member only when listed in member_account_ids. Needs Organizations read access: from the management account or a delegated administrator, or through organizations_role_arn."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for id in var.member_organizational_unit_ids : can(regex("^ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}$", id))])
    error_message = "member_organizational_unit_ids must be AWS Organizations OU ids (ou-xxxx-xxxxxxxx)."
  }
}

variable "organizations_role_arn" {
  description = "Role the functions assume (with the member external ID) to list the OUs' accounts (DMM_ORGANIZATIONS_ROLE_ARN): in the management account or a delegated administrator, allowing organizations:ListAccountsForParent and organizations:ListOrganizationalUnitsForParent. null (default): the functions' own roles call Organizations, which works only when the hub runs in the management account or a delegated administrator."
  type        = string
  default     = null

  validation {
    condition     = var.organizations_role_arn == null || can(regex("^arn:aws[a-z-]*:iam::\\d{12}:role/[A-Za-z0-9+=,.@_/-]{1,512}$", coalesce(var.organizations_role_arn, "-")))
    error_message = "organizations_role_arn must be null or an IAM role ARN."
  }
}

variable "athena_results_locations" {
  description = "Per consumer account, where its roles' Athena query results go (DMM_ATHENA_RESULTS_LOCATIONS): { \"<account id>\" = \"s3://bucket/prefix/\" }, a bucket in that account. For roles in a listed account it replaces athena_results_location (each role still gets its own <prefix><role name>/ folder). Empty (default): athena_results_location for every account."
  type        = map(string)
  default     = {}
  nullable    = false

  validation {
    condition = alltrue([
      for account, location in var.athena_results_locations :
      can(regex("^\\d{12}$", account)) && can(regex("^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](/[^*?$]*)?/$", location))
    ])
    error_message = "athena_results_locations must map 12-digit account ids to locations like s3://bucket/prefix/ (ending in '/', no '*', '?' or '$')."
  }
}

variable "allowed_account_pairs" {
  description = "Which consumer accounts may receive data from which provider accounts (DMM_ALLOWED_ACCOUNT_PAIRS). Empty (default): any member from any member. Grants within one account are always allowed."
  type = list(object({
    consumer = string
    provider = string
  }))
  default = []

  validation {
    condition     = alltrue([for pair in var.allowed_account_pairs : can(regex("^\\d{12}$", pair.consumer)) && can(regex("^\\d{12}$", pair.provider))])
    error_message = "allowed_account_pairs entries must name 12-digit consumer and provider account ids."
  }
}

variable "dashboard_enabled" {
  description = "Create the CloudWatch dashboard <name_prefix>-sync: feed lag, events read/queued/processed, grants/revokes/failures, dead-letter queue depth, Lambda errors/throttles/durations and IAM writes, with the alarms' thresholds drawn on their widgets. false: no dashboard (the alarms stay)."
  type        = bool
  default     = true
  nullable    = false
}
