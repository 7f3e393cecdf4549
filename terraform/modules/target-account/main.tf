# db-admin-report, target account: the role the central collector assumes to read database logins.
# Trusted only by the central collector role, only with the ExternalId; it can read the named (or
# tagged) secrets and nothing else.

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
      identifiers = [var.central_collector_role_arn]
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
