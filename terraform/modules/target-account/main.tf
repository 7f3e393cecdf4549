# db-admin-report, target account: the role the central collector assumes to read database logins,
# and the central publisher assumes to list the account's RDS databases (discovery). Trusted only by
# those two roles, only with the ExternalId; it can read the named (or tagged) secrets and describe
# RDS, nothing else.

terraform {
  required_version = ">= 1.5"
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.40"
    }
  }
}

data "aws_iam_policy_document" "trust" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "AWS"
      identifiers = compact([var.central_collector_role_arn, var.central_publisher_role_arn])
    }
    condition {
      test     = "StringEquals"
      variable = "sts:ExternalId"
      values   = [var.external_id]
    }
  }
}

resource "aws_iam_role" "collector" {
  name                 = var.role_name
  assume_role_policy   = data.aws_iam_policy_document.trust.json
  max_session_duration = 3600
  tags                 = var.tags
}

data "aws_iam_policy_document" "read_secrets" {
  dynamic "statement" {
    for_each = length(var.secret_arns) > 0 ? [1] : []
    content {
      sid       = "NamedSecrets"
      actions   = ["secretsmanager:GetSecretValue"]
      resources = var.secret_arns
    }
  }
  dynamic "statement" {
    for_each = var.secret_tag == null ? [] : [var.secret_tag]
    content {
      sid       = "TaggedSecrets"
      actions   = ["secretsmanager:GetSecretValue"]
      resources = ["*"]
      condition {
        test     = "StringEquals"
        variable = "secretsmanager:ResourceTag/${statement.value.key}"
        values   = [statement.value.value]
      }
    }
  }
  dynamic "statement" {
    for_each = length(var.secrets_kms_key_arns) > 0 ? [1] : []
    content {
      sid       = "DecryptSecrets"
      actions   = ["kms:Decrypt"]
      resources = var.secrets_kms_key_arns
      condition {
        test     = "StringLike"
        variable = "kms:ViaService"
        values   = ["secretsmanager.*.amazonaws.com"]
      }
    }
  }
}

resource "aws_iam_role_policy" "read_secrets" {
  name   = "read-database-logins"
  role   = aws_iam_role.collector.id
  policy = data.aws_iam_policy_document.read_secrets.json

  lifecycle {
    precondition {
      condition     = length(var.secret_arns) > 0 || var.secret_tag != null
      error_message = "Name the readable secrets (secret_arns) or the tag they carry (secret_tag)."
    }
  }
}

# Discovery: list the account's DB instances and clusters and their tags, so a report can prove its
# inventory complete. Read-only; nothing here reaches a database's data or its logins.
data "aws_iam_policy_document" "discover" {
  #checkov:skip=CKV_AWS_356:rds:DescribeDBInstances/DescribeDBClusters list every database of the account and region; a resource list would defeat discovery.
  statement {
    sid       = "ListDatabases"
    actions   = ["rds:DescribeDBInstances", "rds:DescribeDBClusters", "rds:ListTagsForResource"]
    resources = ["*"]
  }
}

resource "aws_iam_role_policy" "discover" {
  name   = "discover-databases"
  role   = aws_iam_role.collector.id
  policy = data.aws_iam_policy_document.discover.json
}
