terraform {
  # 1.5 is enough for everything used here (preconditions, `terraform_data`, `check` blocks).
  required_version = ">= 1.5"

  required_providers {
    aws = {
      source = "hashicorp/aws"
      # Older 5.x releases reject runtime "nodejs22.x" in their own validation (the runtime list
      # follows the AWS SDK the provider was built with); 5.77 (Nov 2024) is the first to accept it.
      version = ">= 5.77"
    }
  }
}
