# The Data Mesh Manager API key. Either the module creates the secret from var.dmm_api_key, or
# the caller passes an existing secret's ARN (keeps the key out of the Terraform state).

resource "aws_secretsmanager_secret" "api_key" {
  # Keyed on the ARN variable rather than on var.dmm_api_key: a sensitive value cannot decide
  # `count`. terraform_data.api_key_source guarantees that the key is set when this is created.
  count = var.dmm_api_key_secret_arn == null ? 1 : 0

  # A generated suffix, so that destroying and re-creating the module does not collide with the
  # old secret while it waits out its recovery window.
  name_prefix             = "${var.name_prefix}/dmm-api-key-"
  description             = "Data Mesh Manager API key used by ${var.name_prefix} (x-api-key)."
  recovery_window_in_days = 7
  tags                    = local.tags
}

resource "aws_secretsmanager_secret_version" "api_key" {
  count = var.dmm_api_key_secret_arn == null ? 1 : 0

  secret_id     = aws_secretsmanager_secret.api_key[0].id
  secret_string = var.dmm_api_key

  depends_on = [terraform_data.api_key_source]
}
