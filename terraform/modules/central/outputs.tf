output "bucket" {
  description = "Evidence bucket (results, populations, reports)."
  value       = aws_s3_bucket.evidence.id
}

output "table" {
  description = "Run table."
  value       = aws_dynamodb_table.runs.name
}

output "kms_key_arn" {
  description = "Key encrypting everything above."
  value       = aws_kms_key.main.arn
}

output "requests_queue_url" {
  description = "Where the CLI publishes report requests."
  value       = aws_sqs_queue.main["requests"].id
}

output "collect_topic_arn" {
  description = "Collect topic."
  value       = aws_sns_topic.collect.arn
}

output "dlq_urls" {
  description = "Dead-letter queues by stage (requests, collect, finalize), for db-admin-report dlq."
  value       = { for k, q in aws_sqs_queue.dlq : k => q.id }
}

output "finalize_queue_url" {
  description = "Finalize queue."
  value       = aws_sqs_queue.main["finalize"].id
}

output "collector_role_arn" {
  description = "The role each target account's collector role must trust."
  value       = aws_iam_role.function["collector"].arn
}

output "cli_config" {
  description = "A db-admin-report CLI configuration for this deployment."
  value = {
    DBADMIN_REQUESTS_QUEUE_URL = aws_sqs_queue.main["requests"].id
    DBADMIN_BUCKET             = aws_s3_bucket.evidence.id
    DBADMIN_TABLE              = aws_dynamodb_table.runs.name
    DBADMIN_COLLECT_QUEUE_URL  = aws_sqs_queue.main["collect"].id
    DBADMIN_COLLECT_DLQ_URL    = aws_sqs_queue.dlq["collect"].id
    DBADMIN_FINALIZE_QUEUE_URL = aws_sqs_queue.main["finalize"].id
    DBADMIN_FINALIZE_DLQ_URL   = aws_sqs_queue.dlq["finalize"].id
    DBADMIN_REQUESTS_DLQ_URL   = aws_sqs_queue.dlq["requests"].id
    DBADMIN_SIGNING_KEY_ID     = aws_kms_key.signing.arn
  }
}

output "signing_key_arn" {
  description = "The KMS key every manifest is signed with (ECC_NIST_P256, ECDSA_SHA_256)."
  value       = aws_kms_key.signing.arn
}

output "signing_public_key_pem" {
  description = "The public key that verifies report signatures offline (db-admin-report verify --public-key)."
  value       = data.aws_kms_public_key.signing.public_key_pem
}

output "cli_policy_json" {
  description = "The least-privilege IAM policy for people who run the CLI against this deployment."
  value       = local.cli_policy
}

output "auditor_policy_json" {
  description = "The read-only IAM policy for auditors: list and download reports, export the public key (verify and diff work offline)."
  value       = local.auditor_policy
}

output "inventory_parameter_scp_json" {
  description = "A service control policy for the organization's management account to attach to this account: only inventory_writer_arns may write or delete the Parameter Store inventories (Parameter Store has no resource policy of its own)."
  value = templatefile("${local.policies}/inventory-parameter-scp.json", {
    inventory_parameter_arn = local.inventory_parameter_arn
    inventory_writer_arns   = jsonencode(var.inventory_writer_arns)
  })
}

output "dashboard_name" {
  description = "CloudWatch dashboard of the metrics, queues and functions."
  value       = aws_cloudwatch_dashboard.main.dashboard_name
}

output "schedule_arn" {
  description = "The recurring report's schedule, when var.schedule is set."
  value       = one(aws_scheduler_schedule.report[*].arn)
}

output "publisher_role_arn" {
  description = "The publisher's role: target accounts' discovery roles trust it (target-account module's central_publisher_role_arn)."
  value       = aws_iam_role.function["publisher"].arn
}
