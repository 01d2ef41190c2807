variable "hub_role_arns" {
  description = "ARNs of the hub's IAM writer roles (the hub module's output iam_writer_role_arns): the only principals the member role trusts."
  type        = list(string)

  validation {
    condition     = length(var.hub_role_arns) > 0 && alltrue([for arn in var.hub_role_arns : can(regex("^arn:aws[a-z-]*:iam::\\d{12}:role/[A-Za-z0-9+=,.@_/-]+$", arn))])
    error_message = "hub_role_arns must list at least one IAM role ARN (arn:<partition>:iam::<account>:role/<path><name>), without wildcards."
  }
}

variable "external_id" {
  description = "The external ID the hub sends with sts:AssumeRole: the value of the hub's member_external_id_secret_arn secret. It ends up in this module's state; keep the state private."
  type        = string
  sensitive   = true

  validation {
    condition     = can(regex("^[A-Za-z0-9_+=,.@:/-]{2,1224}$", var.external_id))
    error_message = "external_id must be 2-1224 characters of letters, digits and _+=,.@:/- (STS's rules)."
  }
}

variable "role_name" {
  description = "Name of the member role; the hub's member_role_name."
  type        = string
  default     = "dmm-aws-member"

  validation {
    condition     = can(regex("^[A-Za-z0-9+=,.@_-]{1,64}$", var.role_name))
    error_message = "role_name must be an IAM role name (1-64 letters, digits and +=,.@_-)."
  }
}

variable "role_path" {
  description = "IAM path of the member role; the hub's member_role_path."
  type        = string
  default     = "/"

  validation {
    condition     = can(regex("^/([A-Za-z0-9+=,.@_-]+/)*$", var.role_path))
    error_message = "role_path must start and end with / and contain only letters, digits and +=,.@_-."
  }
}

variable "managed_role_path" {
  description = "IAM path of the consumer roles in this account the hub may grant on. \"/\" allows every role (except the member role itself and the always-protected ones); a dedicated path such as /data-consumers/ is strongly recommended."
  type        = string
  default     = "/"

  validation {
    condition     = can(regex("^/([A-Za-z0-9+=,.@_-]+/)*$", var.managed_role_path))
    error_message = "managed_role_path must start and end with / and contain only letters, digits and +=,.@_-."
  }
}

variable "required_role_tag" {
  description = "A tag consumer roles must carry before the hub may write their policies (the hub's required_role_tag). null: none."
  type = object({
    key   = string
    value = optional(string)
  })
  default = null
}

variable "protected_role_names" {
  description = "Role names (a trailing * matches a prefix) the hub may never write, in addition to the always-protected administration roles."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for name in var.protected_role_names : can(regex("^[A-Za-z0-9+=,.@_-]{1,64}\\*?$", name))])
    error_message = "protected_role_names must be role names, optionally ending in *."
  }
}

variable "ownership_tag_key" {
  description = "The tag naming a provider resource's data product (the hub's ownership_tag_key). KMS key policies are writable only on keys carrying it."
  type        = string
  default     = "dmm:data-product"

  validation {
    condition     = can(regex("^[A-Za-z0-9 _.:/=+@-]{1,128}$", var.ownership_tag_key))
    error_message = "ownership_tag_key must be a tag key of 1-128 letters, digits, spaces and _.:/=+@-."
  }
}

variable "provider_bucket_names" {
  description = "S3 bucket names (a * is a wildcard) whose bucket policies the hub may write for cross-account grants. [\"*\"] (default): every bucket of this account."
  type        = list(string)
  default     = ["*"]

  validation {
    condition     = length(var.provider_bucket_names) > 0 && alltrue([for name in var.provider_bucket_names : can(regex("^[a-z0-9.*-]{1,63}$", name))])
    error_message = "provider_bucket_names must list bucket names of a-z, 0-9, '.', '-' and '*'."
  }
}

variable "lake_formation" {
  description = "Whether the hub may grant and revoke Lake Formation permissions in this account (the role must also be made a Lake Formation administrator, or hold grantable permissions, in Lake Formation itself)."
  type        = bool
  default     = false
}

variable "tags" {
  description = "Tags for the member role."
  type        = map(string)
  default     = {}
}
