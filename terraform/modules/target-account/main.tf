# db-admin-report, target account: two roles the central account assumes, each only with the
# ExternalId. The collector role, trusted by the central collector alone, reads the named (or
# tagged) secrets. The discovery role, trusted by the central publisher (and the principals in
# discovery_principal_arns, e.g. a bastion running `generate --local --discover`), lists the
# account's RDS databases and can read no secret. Policies: terraform/policies/target-*.json.

terraform {
  required_version = ">= 1.5"
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.40"
    }
  }
}

data "aws_partition" "current" {}
data "aws_caller_identity" "current" {}

locals {
  policies = "${path.module}/../../policies"
  read_secrets = concat(
    length(var.secret_arns) == 0 ? [] : jsondecode(templatefile("${local.policies}/target-named-secrets.json", {
      secret_arns = jsonencode(var.secret_arns)
    })).Statement,
    var.secret_tag == null ? [] : jsondecode(templatefile("${local.policies}/target-tagged-secrets.json", {
      tag_key   = var.secret_tag.key
      tag_value = var.secret_tag.value
    })).Statement,
    length(var.secrets_kms_key_arns) == 0 ? [] : jsondecode(templatefile("${local.policies}/target-secrets-kms.json", {
      kms_key_arns = jsonencode(var.secrets_kms_key_arns)
    })).Statement,
    # The Last Login Date's evidence: the databases' logs RDS exports to CloudWatch Logs.
    jsondecode(templatefile("${local.policies}/target-login-logs.json", {
      partition = data.aws_partition.current.partition
      account   = data.aws_caller_identity.current.account_id
    })).Statement,
  )
  discoverers = compact(concat([var.central_publisher_role_arn], var.discovery_principal_arns))
}

resource "aws_iam_role" "collector" {
  name = var.role_name
  assume_role_policy = templatefile("${local.policies}/target-collector-trust.json", {
    collector_role_arn = var.central_collector_role_arn
    external_id        = var.external_id
  })
  max_session_duration = 3600
  tags                 = var.tags
}

resource "aws_iam_role_policy" "read_secrets" {
  name   = "read-database-logins"
  role   = aws_iam_role.collector.id
  policy = jsonencode({ Version = "2012-10-17", Statement = local.read_secrets })

  lifecycle {
    precondition {
      condition     = length(var.secret_arns) > 0 || var.secret_tag != null
      error_message = "Name the readable secrets (secret_arns) or the tag they carry (secret_tag)."
    }
  }
}

# Discovery: list the account's DB instances and clusters and their tags, so a report can prove its
# inventory complete. Read-only; nothing here reaches a database's data or its logins.
resource "aws_iam_role" "discovery" {
  count = length(local.discoverers) > 0 ? 1 : 0
  name  = var.discovery_role_name
  assume_role_policy = templatefile("${local.policies}/target-discovery-trust.json", {
    discoverer_arns = jsonencode(local.discoverers)
    external_id     = var.external_id
  })
  max_session_duration = 3600
  tags                 = var.tags
}

resource "aws_iam_role_policy" "discover" {
  #checkov:skip=CKV_AWS_356:rds:DescribeDBInstances/DescribeDBClusters list every database of the account and region; a resource list would defeat discovery.
  count  = length(local.discoverers) > 0 ? 1 : 0
  name   = "discover-databases"
  role   = aws_iam_role.discovery[0].id
  policy = templatefile("${local.policies}/target-discover.json", {})
}
