# The three functions: provided.al2023 on arm64, one log group and one role each.

locals {
  # DBADMIN_MAX_RECEIVE_COUNT: the last delivery of a job is known, and ends as an error row
  # instead of resting in the DLQ.
  common_env = {
    DBADMIN_BUCKET            = aws_s3_bucket.evidence.id
    DBADMIN_TABLE             = aws_dynamodb_table.runs.name
    DBADMIN_KMS_KEY_ID        = aws_kms_key.main.arn
    AWS_LAMBDA_LOG_FORMAT     = "JSON"
    DBADMIN_MAX_RECEIVE_COUNT = tostring(var.max_receive_count)
  }
  function_env = {
    publisher = merge(local.common_env, {
      DBADMIN_COLLECT_TOPIC_ARN  = aws_sns_topic.collect.arn
      DBADMIN_FINALIZE_QUEUE_URL = aws_sqs_queue.main["finalize"].id
      DBADMIN_DLQ_URL            = aws_sqs_queue.dlq["requests"].id
      # Discovery lists each account's RDS databases through its discovery role (no secrets).
      DBADMIN_TARGET_ROLE_NAME = var.discovery_role_name
      DBADMIN_EXTERNAL_ID      = var.external_id
    })
    collector = merge(local.common_env, {
      DBADMIN_FINALIZE_QUEUE_URL    = aws_sqs_queue.main["finalize"].id
      DBADMIN_TARGET_ROLE_NAME      = var.target_role_name
      DBADMIN_EXTERNAL_ID           = var.external_id
      DBADMIN_TLS_CA_FILE           = "rds-global-bundle.pem"
      DBADMIN_MIN_TLS_MODE          = var.min_tls_mode
      DBADMIN_REQUIRE_BOUND_SECRETS = tostring(var.require_bound_secrets)
      DBADMIN_LOGIN_WINDOW_DAYS     = tostring(var.login_window_days)
      DBADMIN_DLQ_URL               = aws_sqs_queue.dlq["collect"].id
    })
    reporter = merge(local.common_env, {
      DBADMIN_DLQ_URL             = aws_sqs_queue.dlq["finalize"].id
      DBADMIN_FINALIZE_LEASE_SECS = tostring(local.finalize_lease)
      DBADMIN_SIGNING_KEY_ID      = aws_kms_key.signing.arn
    })
  }
  function_source = {
    publisher = "requests"
    collector = "collect"
    reporter  = "finalize"
  }
}

resource "aws_cloudwatch_log_group" "function" {
  for_each          = toset(local.functions)
  name              = "/aws/lambda/${var.name_prefix}-${each.key}"
  retention_in_days = var.log_retention_days
  kms_key_id        = aws_kms_key.main.arn
  tags              = var.tags
}

resource "aws_lambda_function" "function" {
  #checkov:skip=CKV_AWS_116:Invoked only by SQS event source mappings: failed records go to the source queue's dead-letter queue, not to a function DLQ.
  #checkov:skip=CKV_AWS_272:Code signing needs an AWS Signer profile of the organisation's; add aws_lambda_code_signing_config where one exists.
  for_each         = toset(local.functions)
  function_name    = "${var.name_prefix}-${each.key}"
  role             = aws_iam_role.function[each.key].arn
  runtime          = "provided.al2023"
  architectures    = ["arm64"]
  handler          = "bootstrap"
  filename         = "${var.lambda_zip_dir}/${each.key}.zip"
  source_code_hash = filebase64sha256("${var.lambda_zip_dir}/${each.key}.zip")
  timeout          = var.function_timeout_seconds
  memory_size      = each.key == "reporter" ? 1024 : 256
  kms_key_arn      = aws_kms_key.main.arn
  # Concurrency is bounded at the event source mappings (maximum_concurrency).
  reserved_concurrent_executions = -1

  environment {
    variables = local.function_env[each.key]
  }

  tracing_config {
    mode = "Active"
  }

  dynamic "vpc_config" {
    for_each = each.key == "collector" && length(var.vpc_subnet_ids) > 0 ? [1] : []
    content {
      subnet_ids         = var.vpc_subnet_ids
      security_group_ids = var.vpc_security_group_ids
    }
  }

  depends_on = [aws_cloudwatch_log_group.function]
  tags       = var.tags
}

resource "aws_lambda_event_source_mapping" "function" {
  for_each                = toset(local.functions)
  event_source_arn        = aws_sqs_queue.main[local.function_source[each.key]].arn
  function_name           = aws_lambda_function.function[each.key].arn
  batch_size              = each.key == "collector" ? 10 : 1
  function_response_types = ["ReportBatchItemFailures"]
  scaling_config {
    maximum_concurrency = each.key == "collector" ? var.collector_max_concurrency : 2
  }
}
