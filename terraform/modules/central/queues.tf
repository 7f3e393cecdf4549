# Requests → publisher; collect topic → collect queue → collector; finalize queue → reporter.
# Every queue has a dead-letter queue; visibility time-outs are six times the function time-out.

locals {
  queues = {
    requests = "${var.name_prefix}-requests"
    collect  = "${var.name_prefix}-collect"
    finalize = "${var.name_prefix}-finalize"
  }
}

resource "aws_sqs_queue" "dlq" {
  for_each                  = local.queues
  name                      = "${each.value}-dlq"
  message_retention_seconds = 1209600
  kms_master_key_id         = aws_kms_key.main.arn
  tags                      = var.tags
}

resource "aws_sqs_queue" "main" {
  for_each                   = local.queues
  name                       = each.value
  visibility_timeout_seconds = local.visibility_timeout
  message_retention_seconds  = 345600
  kms_master_key_id          = aws_kms_key.main.arn
  redrive_policy = jsonencode({
    deadLetterTargetArn = aws_sqs_queue.dlq[each.key].arn
    maxReceiveCount     = var.max_receive_count
  })
  tags = var.tags
}

resource "aws_sns_topic" "collect" {
  name              = "${var.name_prefix}-collect"
  kms_master_key_id = aws_kms_key.main.arn
  tags              = var.tags
}

resource "aws_sns_topic_subscription" "collect" {
  topic_arn            = aws_sns_topic.collect.arn
  protocol             = "sqs"
  endpoint             = aws_sqs_queue.main["collect"].arn
  raw_message_delivery = true
}

resource "aws_sqs_queue_policy" "collect_from_topic" {
  queue_url = aws_sqs_queue.main["collect"].id
  policy = templatefile("${local.policies}/collect-queue.json", {
    collect_queue_arn = aws_sqs_queue.main["collect"].arn
    collect_topic_arn = aws_sns_topic.collect.arn
  })
}

# Every alarm notifies this topic; people subscribe by e-mail (var.alarm_emails) or otherwise.
resource "aws_sns_topic" "alerts" {
  name              = "${var.name_prefix}-alerts"
  kms_master_key_id = aws_kms_key.main.arn
  tags              = var.tags
}

resource "aws_sns_topic_subscription" "alert_email" {
  for_each  = toset(var.alarm_emails)
  topic_arn = aws_sns_topic.alerts.arn
  protocol  = "email"
  endpoint  = each.value
}

resource "aws_cloudwatch_metric_alarm" "dlq_depth" {
  for_each            = local.queues
  alarm_name          = "${each.value}-dlq-not-empty"
  alarm_description   = "Messages rest in ${each.value}-dlq: inspect them with db-admin-report dlq list --queue ${each.key}, redrive with dlq redrive --queue ${each.key} (a finalize: db-admin-report finalize REPORT_ID)."
  alarm_actions       = [aws_sns_topic.alerts.arn]
  ok_actions          = [aws_sns_topic.alerts.arn]
  namespace           = "AWS/SQS"
  metric_name         = "ApproximateNumberOfMessagesVisible"
  dimensions          = { QueueName = aws_sqs_queue.dlq[each.key].name }
  statistic           = "Maximum"
  period              = 300
  evaluation_periods  = 1
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  tags                = var.tags
}
