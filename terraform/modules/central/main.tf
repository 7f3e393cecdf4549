# db-admin-report, central account: queues, topic, functions, run table, evidence bucket, key.
# Names and environment variables here are the ones the Lambda functions read (aws/src/config.rs)
# and the emulator deployment creates (scripts/aws_local_deploy.py); terraform/tests checks that.

terraform {
  required_version = ">= 1.5"
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.40"
    }
  }
}

data "aws_caller_identity" "current" {}
data "aws_region" "current" {}
data "aws_partition" "current" {}

locals {
  account   = data.aws_caller_identity.current.account_id
  region    = data.aws_region.current.name
  partition = data.aws_partition.current.partition
  functions = ["publisher", "collector", "reporter"]
  target_role_arns = [
    for id in var.target_account_ids : "arn:${local.partition}:iam::${id}:role/${var.target_role_name}"
  ]
  discovery_role_arns = [
    for id in var.target_account_ids : "arn:${local.partition}:iam::${id}:role/${var.discovery_role_name}"
  ]
  account_root_arn = "arn:${local.partition}:iam::${local.account}:root"
  # aws:PrincipalArn of a role's session is the role's ARN on AWS; some evaluators (MiniStack) give
  # the session's ARN instead, which these patterns match. Only that role's sessions have that form.
  session_arns       = { for f in local.functions : f => "arn:${local.partition}:sts::${local.account}:assumed-role/${var.name_prefix}-${f}/*" }
  visibility_timeout = var.function_timeout_seconds * 6
  # A reporter's claim outlasts its own invocation and expires before a redelivered finalize message
  # comes back, so a reporter that died is replaced and a live one is never doubled.
  finalize_lease = var.function_timeout_seconds * 2
}

# ---------------------------------------------------------------------------------------------
# Encryption key for the bucket, table, queues, topic and logs.
# ---------------------------------------------------------------------------------------------

resource "aws_kms_key" "main" {
  description         = "${var.name_prefix} evidence, queues and logs"
  enable_key_rotation = true
  # The account root administers the key, as AWS's default key policy does; the services that
  # encrypt with it (logs, SNS, SQS, and CloudWatch for alarms publishing to the alerts topic) may use it.
  policy = templatefile("${local.policies}/kms-key.json", {
    account_root_arn = local.account_root_arn
    region           = local.region
  })
  tags = var.tags
}

resource "aws_kms_alias" "main" {
  name          = "alias/${var.name_prefix}"
  target_key_id = aws_kms_key.main.key_id
}

# ---------------------------------------------------------------------------------------------
# Manifest signing key: asymmetric (ECC_NIST_P256), sign and verify only. The reporter may only
# sign; anyone the account allows may read the public key and verify, so auditors check reports
# offline with the exported public key (output signing_public_key_pem).
# ---------------------------------------------------------------------------------------------

resource "aws_kms_key" "signing" {
  #checkov:skip=CKV_AWS_7:KMS does not rotate asymmetric keys; a new key starts a new chain, and old reports keep verifying with the old public key.
  description              = "${var.name_prefix} manifest signatures"
  key_usage                = "SIGN_VERIFY"
  customer_master_key_spec = "ECC_NIST_P256"
  # Nobody but the reporter signs with this key, even with kms:Sign in an IAM policy.
  policy = templatefile("${local.policies}/signing-key.json", {
    account_root_arn  = local.account_root_arn
    reporter_role_arn = aws_iam_role.function["reporter"].arn
    reporter_sessions = local.session_arns["reporter"]
  })
  tags = var.tags
}

resource "aws_kms_alias" "signing" {
  name          = "alias/${var.name_prefix}-signing"
  target_key_id = aws_kms_key.signing.key_id
}

data "aws_kms_public_key" "signing" {
  key_id = aws_kms_key.signing.arn
}

# ---------------------------------------------------------------------------------------------
# Evidence bucket: results, population snapshots and the reports an auditor receives.
# ---------------------------------------------------------------------------------------------

resource "aws_s3_bucket" "evidence" {
  #checkov:skip=CKV_AWS_18:Server access logs need a log bucket owned by the organisation's logging account; record reads with CloudTrail S3 data events there.
  #checkov:skip=CKV2_AWS_62:Nothing consumes bucket events; the run table records every report version.
  #checkov:skip=CKV_AWS_144:Cross-region replication of Object-Locked evidence needs a destination bucket chosen by the organisation; versioning and COMPLIANCE lock protect the copy kept here.
  bucket              = "${var.name_prefix}-evidence-${local.account}-${local.region}"
  object_lock_enabled = true
  tags                = var.tags
}

resource "aws_s3_bucket_versioning" "evidence" {
  bucket = aws_s3_bucket.evidence.id
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_object_lock_configuration" "evidence" {
  bucket = aws_s3_bucket.evidence.id
  rule {
    default_retention {
      mode = "COMPLIANCE"
      days = var.report_retention_days
    }
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "evidence" {
  bucket = aws_s3_bucket.evidence.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = aws_kms_key.main.arn
    }
    bucket_key_enabled = true
  }
}

resource "aws_s3_bucket_public_access_block" "evidence" {
  bucket                  = aws_s3_bucket.evidence.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_ownership_controls" "evidence" {
  bucket = aws_s3_bucket.evidence.id
  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "evidence" {
  bucket = aws_s3_bucket.evidence.id
  rule {
    id     = "transient-run-data"
    status = "Enabled"
    filter {
      prefix = "runs/"
    }
    expiration {
      days = var.transient_retention_days
    }
    noncurrent_version_expiration {
      noncurrent_days = var.transient_retention_days
    }
  }
  rule {
    id     = "abort-incomplete-uploads"
    status = "Enabled"
    filter {}
    abort_incomplete_multipart_upload {
      days_after_initiation = 7
    }
  }
}

resource "aws_s3_bucket_policy" "evidence" {
  bucket = aws_s3_bucket.evidence.id
  # Who may write what: the population only by the publisher, results only by the collector,
  # reports only by the reporter. Denied to every other principal, administrators included.
  policy = templatefile("${local.policies}/evidence-bucket.json", {
    bucket_arn            = aws_s3_bucket.evidence.arn
    publisher_role_arn    = aws_iam_role.function["publisher"].arn
    publisher_sessions    = local.session_arns["publisher"]
    collector_role_arn    = aws_iam_role.function["collector"].arn
    collector_sessions    = local.session_arns["collector"]
    reporter_role_arn     = aws_iam_role.function["reporter"].arn
    reporter_sessions     = local.session_arns["reporter"]
    inventory_writer_arns = jsonencode(var.inventory_writer_arns)
  })
}

# ---------------------------------------------------------------------------------------------
# Run table: run records and the exactly-once completion markers.
# ---------------------------------------------------------------------------------------------

resource "aws_dynamodb_table" "runs" {
  name         = "${var.name_prefix}-runs"
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "pk"
  range_key    = "sk"

  attribute {
    name = "pk"
    type = "S"
  }
  attribute {
    name = "sk"
    type = "S"
  }

  point_in_time_recovery {
    enabled = true
  }
  server_side_encryption {
    enabled     = true
    kms_key_arn = aws_kms_key.main.arn
  }
  ttl {
    attribute_name = "expires_at"
    enabled        = true
  }
  tags = var.tags
}
