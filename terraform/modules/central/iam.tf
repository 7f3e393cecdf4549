# One least-privilege role per function. The collector may only assume the named target roles;
# only the reporter may write reports/.

data "aws_iam_policy_document" "lambda_trust" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "function" {
  for_each           = toset(local.functions)
  name               = "${var.name_prefix}-${each.key}"
  assume_role_policy = data.aws_iam_policy_document.lambda_trust.json
  tags               = var.tags
}

locals {
  bucket_arn = aws_s3_bucket.evidence.arn
  common_statements = {
    for f in local.functions : f => [
      {
        sid       = "OwnLogs"
        actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
        resources = ["${aws_cloudwatch_log_group.function[f].arn}:*"]
      },
      {
        sid       = "Key"
        actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
        resources = [aws_kms_key.main.arn]
      },
      {
        sid       = "ConsumeOwnQueue"
        actions   = ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"]
        resources = [aws_sqs_queue.main[local.function_source[f]].arn]
      },
      {
        # A record that fails permanently goes to its queue's DLQ at once, with the reason.
        sid       = "DeadLetterOwnQueue"
        actions   = ["sqs:SendMessage"]
        resources = [aws_sqs_queue.dlq[local.function_source[f]].arn]
      },
      {
        sid       = "Tracing"
        actions   = ["xray:PutTraceSegments", "xray:PutTelemetryRecords"]
        resources = ["*"]
      },
    ]
  }
  function_statements = {
    publisher = [
      {
        sid       = "ReadInventory"
        actions   = ["s3:GetObject"]
        resources = ["${local.bucket_arn}/inventory/*"]
      },
      {
        sid       = "WriteRunData"
        actions   = ["s3:GetObject", "s3:PutObject"]
        resources = ["${local.bucket_arn}/runs/*"]
      },
      {
        # Put/Get: new runs. Query/Update/Delete: a retry uncounts the failed targets.
        sid       = "RunRecords"
        actions   = ["dynamodb:PutItem", "dynamodb:GetItem", "dynamodb:Query", "dynamodb:UpdateItem", "dynamodb:DeleteItem"]
        resources = [aws_dynamodb_table.runs.arn]
      },
      {
        sid       = "FanOut"
        actions   = ["sns:Publish"]
        resources = [aws_sns_topic.collect.arn]
      },
      {
        sid       = "FinalizeEmptyReports"
        actions   = ["sqs:SendMessage"]
        resources = [aws_sqs_queue.main["finalize"].arn]
      },
      {
        # Discovery: list each target account's RDS databases through its role.
        sid       = "AssumeTargetRolesToDiscover"
        actions   = ["sts:AssumeRole"]
        resources = local.target_role_arns
      },
      {
        # Inventories kept in Parameter Store (ssm:/path), under this path only.
        sid       = "ReadInventoryParameters"
        actions   = ["ssm:GetParameter", "ssm:GetParametersByPath"]
        resources = ["arn:${local.partition}:ssm:${local.region}:${local.account}:parameter${var.inventory_parameter_path}", "arn:${local.partition}:ssm:${local.region}:${local.account}:parameter${var.inventory_parameter_path}/*"]
      },
    ]
    collector = [
      {
        sid       = "AssumeTargetRoles"
        actions   = ["sts:AssumeRole"]
        resources = local.target_role_arns
      },
      {
        sid       = "Results"
        actions   = ["s3:GetObject", "s3:PutObject"]
        resources = ["${local.bucket_arn}/runs/*/results/*"]
      },
      {
        # A job names its target; the target is read from the publisher's snapshot.
        sid       = "ReadPopulation"
        actions   = ["s3:GetObject"]
        resources = ["${local.bucket_arn}/runs/*/population.json"]
      },
      {
        sid       = "Count"
        actions   = ["dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:GetItem"]
        resources = [aws_dynamodb_table.runs.arn]
      },
      {
        sid       = "RequestFinalize"
        actions   = ["sqs:SendMessage"]
        resources = [aws_sqs_queue.main["finalize"].arn]
      },
    ]
    reporter = [
      {
        sid       = "ReadRunData"
        actions   = ["s3:GetObject"]
        resources = ["${local.bucket_arn}/runs/*"]
      },
      {
        sid       = "WriteReports"
        actions   = ["s3:PutObject"]
        resources = ["${local.bucket_arn}/reports/*"]
      },
      {
        # Query: which version each target was counted in. UpdateItem: claims, the chain head and
        # the sealed manifest (one transaction).
        sid       = "ClaimSealAndRecord"
        actions   = ["dynamodb:GetItem", "dynamodb:UpdateItem", "dynamodb:Query"]
        resources = [aws_dynamodb_table.runs.arn]
      },
      {
        sid       = "SignManifests"
        actions   = ["kms:Sign", "kms:GetPublicKey"]
        resources = [aws_kms_key.signing.arn]
      },
    ]
  }
}

locals {
  # Statements that exist only when their feature is configured.
  optional_statements = {
    publisher = concat(
      # ListAccounts cannot be scoped to a resource.
      var.discover_organization ? [{ sid = "ListOrganizationAccounts", actions = ["organizations:ListAccounts"], resources = ["*"] }] : [],
      length(var.inventory_parameter_kms_key_arns) > 0 ? [{ sid = "DecryptInventoryParameters", actions = ["kms:Decrypt"], resources = var.inventory_parameter_kms_key_arns }] : [],
    )
    collector = []
    reporter  = []
  }
}

data "aws_iam_policy_document" "function" {
  for_each = toset(local.functions)
  dynamic "statement" {
    for_each = concat(local.common_statements[each.key], local.function_statements[each.key], local.optional_statements[each.key])
    content {
      sid       = statement.value.sid
      actions   = statement.value.actions
      resources = statement.value.resources
    }
  }
}

resource "aws_iam_role_policy" "function" {
  for_each = toset(local.functions)
  name     = "${var.name_prefix}-${each.key}"
  role     = aws_iam_role.function[each.key].id
  policy   = data.aws_iam_policy_document.function[each.key].json
}

resource "aws_iam_role_policy_attachment" "collector_vpc" {
  count      = length(var.vpc_subnet_ids) > 0 ? 1 : 0
  role       = aws_iam_role.function["collector"].name
  policy_arn = "arn:${local.partition}:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole"
}

# What the CLI needs, for operators to attach to their role (output cli_policy_json). Auditors who
# only download and verify need the ReadEvidence, ReadRuns and Key statements.
data "aws_iam_policy_document" "cli" {
  statement {
    sid       = "Identity"
    actions   = ["sts:GetCallerIdentity"]
    resources = ["*"]
  }
  statement {
    sid     = "RequestReports"
    actions = ["sqs:SendMessage"]
    # requests: new reports; collect and finalize: dlq redrive, and `finalize` of a complete run.
    resources = [for q in aws_sqs_queue.main : q.arn]
  }
  statement {
    sid = "DeadLetters"
    actions = [
      "sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility", "sqs:GetQueueAttributes",
      "sqs:StartMessageMoveTask",
    ]
    resources = [for q in aws_sqs_queue.dlq : q.arn]
  }
  statement {
    sid       = "ReadRuns"
    actions   = ["dynamodb:GetItem", "dynamodb:Query", "dynamodb:Scan"]
    resources = [aws_dynamodb_table.runs.arn]
  }
  statement {
    sid       = "ReadEvidence"
    actions   = ["s3:GetObject"]
    resources = ["${local.bucket_arn}/inventory/*", "${local.bucket_arn}/runs/*", "${local.bucket_arn}/reports/*"]
  }
  statement {
    sid       = "Key"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = [aws_kms_key.main.arn]
  }
  statement {
    # `key export` and `download` read the public key; nobody but the reporter signs.
    sid       = "VerifySignatures"
    actions   = ["kms:GetPublicKey", "kms:Verify"]
    resources = [aws_kms_key.signing.arn]
  }
}
