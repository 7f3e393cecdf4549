# Two accounts: the central (tooling) account runs db-admin-report; one target account holds
# databases. Run `terraform/build-lambdas.sh` first. Providers use named AWS CLI profiles.

terraform {
  required_version = ">= 1.5"
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.40"
    }
  }
}

variable "external_id" {
  description = "Shared secret between the central collector and the target roles."
  type        = string
  sensitive   = true
}

variable "inventory_writer_arns" {
  description = "Who publishes the reviewed inventories and baselines (e.g. the CI role of the repository that holds them)."
  type        = list(string)
}

provider "aws" {
  alias   = "central"
  region  = "eu-west-1"
  profile = "central"
}

provider "aws" {
  alias   = "target"
  region  = "eu-west-1"
  profile = "target"
}

data "aws_caller_identity" "target" {
  provider = aws.target
}

module "central" {
  source    = "../../modules/central"
  providers = { aws = aws.central }

  target_account_ids    = [data.aws_caller_identity.target.account_id]
  external_id           = var.external_id
  inventory_writer_arns = var.inventory_writer_arns
  lambda_zip_dir        = "${path.module}/../../dist"
  # A SOC 2 Type II period is a year: keep the functions' logs that long (the module's floor is 90 days).
  log_retention_days = 365
  tags               = { app = "db-admin-report" }
}

module "target" {
  source    = "../../modules/target-account"
  providers = { aws = aws.target }

  central_collector_role_arn = module.central.collector_role_arn
  central_publisher_role_arn = module.central.publisher_role_arn
  external_id                = var.external_id
  secret_tag                 = { key = "db-admin-report", value = "collector" }
  tags                       = { app = "db-admin-report" }
}

output "cli_config" {
  value = module.central.cli_config
}

output "inventory_parameter_scp_json" {
  value = module.central.inventory_parameter_scp_json
}

# The IAM policies for the people: operators (every CLI command) and auditors (read-only).
output "cli_policy_json" {
  value = module.central.cli_policy_json
}

output "auditor_policy_json" {
  value = module.central.auditor_policy_json
}

output "signing_public_key_pem" {
  value = module.central.signing_public_key_pem
}
