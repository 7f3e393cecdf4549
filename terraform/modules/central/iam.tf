# One least-privilege role per function. The collector may only assume the named target roles, the
# publisher only the discovery roles; only the reporter may write reports/. Every policy document
# is a template in terraform/policies/ (README.md there says why each statement exists), rendered
# here and by the emulator deployment (scripts/aws_local_deploy.py) with the same names.

locals {
  policies   = "${path.module}/../../policies"
  bucket_arn = aws_s3_bucket.evidence.arn
  # ListBucket lets a read of a missing key answer 404 instead of 403 (each role is scoped to the
  # prefixes it probes).
  function_statements = {
    publisher = jsondecode(templatefile("${local.policies}/publisher.json", {
      bucket_arn              = local.bucket_arn
      table_arn               = aws_dynamodb_table.runs.arn
      collect_topic_arn       = aws_sns_topic.collect.arn
      finalize_queue_arn      = aws_sqs_queue.main["finalize"].arn
      discovery_role_arns     = jsonencode(local.discovery_role_arns)
      inventory_parameter_arn = local.inventory_parameter_arn
    })).Statement
    collector = jsondecode(templatefile("${local.policies}/collector.json", {
      bucket_arn         = local.bucket_arn
      table_arn          = aws_dynamodb_table.runs.arn
      finalize_queue_arn = aws_sqs_queue.main["finalize"].arn
      target_role_arns   = jsonencode(local.target_role_arns)
    })).Statement
    reporter = jsondecode(templatefile("${local.policies}/reporter.json", {
      bucket_arn      = local.bucket_arn
      table_arn       = aws_dynamodb_table.runs.arn
      signing_key_arn = aws_kms_key.signing.arn
    })).Statement
  }
  # Statements that exist only when their feature is configured.
  optional_statements = {
    publisher = concat(
      # The organization's accounts, not only target_account_ids, are listed through their discovery roles.
      local.organization_discovery,
      local.inventory_parameter_kms,
    )
    collector = []
    reporter  = []
  }
  inventory_parameter_arn = "arn:${local.partition}:ssm:${local.region}:${local.account}:parameter${var.inventory_parameter_path}"
  # SecureString inventories: the publisher and the CLI decrypt them through SSM.
  inventory_parameter_kms = length(var.inventory_parameter_kms_key_arns) == 0 ? [] : jsondecode(templatefile("${local.policies}/inventory-parameter-kms.json", {
    inventory_parameter_kms_key_arns = jsonencode(var.inventory_parameter_kms_key_arns)
  })).Statement
}

resource "aws_iam_role" "function" {
  for_each           = toset(local.functions)
  name               = "${var.name_prefix}-${each.key}"
  assume_role_policy = templatefile("${local.policies}/lambda-trust.json", {})
  tags               = var.tags
}

resource "aws_iam_role_policy" "function" {
  for_each = toset(local.functions)
  name     = "${var.name_prefix}-${each.key}"
  role     = aws_iam_role.function[each.key].id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = concat(
      jsondecode(templatefile("${local.policies}/function-common.json", {
        log_group_arn = aws_cloudwatch_log_group.function[each.key].arn
        key_arn       = aws_kms_key.main.arn
        queue_arn     = aws_sqs_queue.main[local.function_source[each.key]].arn
        dlq_arn       = aws_sqs_queue.dlq[local.function_source[each.key]].arn
      })).Statement,
      local.function_statements[each.key],
      local.optional_statements[each.key],
    )
  })
}

resource "aws_iam_role_policy_attachment" "collector_vpc" {
  count      = length(var.vpc_subnet_ids) > 0 ? 1 : 0
  role       = aws_iam_role.function["collector"].name
  policy_arn = "arn:${local.partition}:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole"
}

locals {
  # The organization's accounts, not only target_account_ids, are listed through their discovery
  # roles: by the publisher, and by operators discovering from the CLI.
  organization_discovery = var.discover_organization ? jsondecode(templatefile("${local.policies}/publisher-organization.json", {
    partition           = local.partition
    discovery_role_name = var.discovery_role_name
  })).Statement : []
  # What the CLI needs, for operators to attach to their role (output cli_policy_json): every
  # documented command (docs/operating.md).
  cli_policy = jsonencode({
    Version = "2012-10-17"
    Statement = concat(
      jsondecode(templatefile("${local.policies}/cli.json", {
        # requests: new reports and retries; collect and finalize: dlq redrive, and `finalize`.
        queue_arns              = jsonencode([for q in aws_sqs_queue.main : q.arn])
        dlq_arns                = jsonencode([for q in aws_sqs_queue.dlq : q.arn])
        table_arn               = aws_dynamodb_table.runs.arn
        bucket_arn              = local.bucket_arn
        inventory_parameter_arn = local.inventory_parameter_arn
        key_arn                 = aws_kms_key.main.arn
        signing_key_arn         = aws_kms_key.signing.arn
        discovery_role_arns     = jsonencode(local.discovery_role_arns)
      })).Statement,
      # `inventory discover --organization` and `generate --local --discover --organization`.
      local.organization_discovery,
      local.inventory_parameter_kms,
    )
  })
  # Auditors list and download reports and export the public key; they never send a message or
  # read run data.
  auditor_policy = templatefile("${local.policies}/auditor.json", {
    table_arn       = aws_dynamodb_table.runs.arn
    bucket_arn      = local.bucket_arn
    key_arn         = aws_kms_key.main.arn
    signing_key_arn = aws_kms_key.signing.arn
  })
}
