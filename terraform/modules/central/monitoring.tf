# Operating it: alarms that reach a person, a dashboard, and an optional schedule.
#
# The functions print their metrics as CloudWatch Embedded Metric Format lines (aws/src/emf.rs):
# namespace DbAdminReport, dimensions Function, Engine, Outcome. Every alarm notifies the alerts
# topic (KMS-encrypted, with optional e-mail subscribers: var.alarm_emails); the DLQ alarms are in
# queues.tf. docs/operating.md says what each alarm means and the command to run.

locals {
  metrics_namespace = "DbAdminReport"
  # The queues whose oldest message shows a report that is not moving.
  progress_queues = { collect = "collection", finalize = "report writing" }
}

# Per function: failed invocations, throttles, and an invocation past 80 % of the time-out.
locals {
  function_alarm_kinds = {
    errors = {
      metric      = "Errors"
      statistic   = "Sum"
      threshold   = 0
      description = "failed invocations (not records: a failed record is retried or dead-lettered). Read its log group; reports in flight show in db-admin-report list and status."
    }
    throttles = {
      metric      = "Throttles"
      statistic   = "Sum"
      threshold   = 0
      description = "was throttled: the account's concurrency is exhausted or its reserved concurrency is too low. Messages wait in the queue (nothing is lost); raise the limit if reports slow down."
    }
    near-timeout = {
      metric      = "Duration"
      statistic   = "Maximum"
      threshold   = var.function_timeout_seconds * 1000 * 0.8
      description = "ran past 80 % of its ${var.function_timeout_seconds} s time-out. Collectors stop work by their deadline (the target becomes a timeout row), so look for slow databases in the report's ERROR rows; raise function_timeout_seconds if many are slow."
    }
  }
  function_alarms = {
    for pair in setproduct(local.functions, keys(local.function_alarm_kinds)) :
    "${pair[0]}-${pair[1]}" => merge(local.function_alarm_kinds[pair[1]], { function = pair[0] })
  }
}

resource "aws_cloudwatch_metric_alarm" "function" {
  for_each            = local.function_alarms
  alarm_name          = "${var.name_prefix}-${each.key}"
  alarm_description   = "The ${each.value.function} function ${each.value.description} Logs: /aws/lambda/${var.name_prefix}-${each.value.function}."
  alarm_actions       = [aws_sns_topic.alerts.arn]
  ok_actions          = [aws_sns_topic.alerts.arn]
  namespace           = "AWS/Lambda"
  metric_name         = each.value.metric
  dimensions          = { FunctionName = aws_lambda_function.function[each.value.function].function_name }
  statistic           = each.value.statistic
  period              = 300
  evaluation_periods  = 1
  threshold           = each.value.threshold
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  tags                = var.tags
}

# A report that is not finishing: a job or a finalize message has waited longer than
# stuck_report_minutes. (A finalize held while another reporter's claim lives comes back to its
# queue, so a stuck report writer shows here too.)
resource "aws_cloudwatch_metric_alarm" "report_stuck" {
  for_each            = local.progress_queues
  alarm_name          = "${var.name_prefix}-report-stuck-in-${each.key}"
  alarm_description   = "A ${each.value} message has waited more than ${var.stuck_report_minutes} minutes: a report requested that long ago has not finalized. Run db-admin-report list, then status REPORT_ID: it names the targets still missing and, for a complete run with no report, the command that unsticks it (db-admin-report finalize REPORT_ID)."
  alarm_actions       = [aws_sns_topic.alerts.arn]
  ok_actions          = [aws_sns_topic.alerts.arn]
  namespace           = "AWS/SQS"
  metric_name         = "ApproximateAgeOfOldestMessage"
  dimensions          = { QueueName = aws_sqs_queue.main[each.key].name }
  statistic           = "Maximum"
  period              = 300
  evaluation_periods  = 1
  threshold           = var.stuck_report_minutes * 60
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  tags                = var.tags
}

# Databases that could not be collected, from the collector's metrics: not a fault of the
# deployment, but every one is an ERROR row an auditor will ask about.
resource "aws_cloudwatch_metric_alarm" "databases_failed" {
  alarm_name          = "${var.name_prefix}-databases-failed"
  alarm_description   = "Databases ended as ERROR rows in a report (unreachable, login refused, timeout …). status REPORT_ID lists them with the reason; after fixing the cause, db-admin-report retry REPORT_ID writes the next version."
  alarm_actions       = [aws_sns_topic.alerts.arn]
  ok_actions          = [aws_sns_topic.alerts.arn]
  comparison_operator = "GreaterThanThreshold"
  threshold           = 0
  evaluation_periods  = 1
  treat_missing_data  = "notBreaching"
  metric_query {
    id          = "failed"
    expression  = "SUM(SEARCH('{${local.metrics_namespace},Function,Engine,Outcome} MetricName=\"DatabasesFailed\"', 'Sum', 300))"
    label       = "Databases failed"
    return_data = true
  }
  tags = var.tags
}

resource "aws_cloudwatch_dashboard" "main" {
  dashboard_name = var.name_prefix
  dashboard_body = jsonencode({
    widgets = [
      {
        type = "metric", x = 0, y = 0, width = 12, height = 6
        properties = {
          title  = "Databases per outcome (collected, or the error kind)"
          region = local.region
          stat   = "Sum"
          period = 300
          view   = "timeSeries"
          metrics = [
            [{ expression = "SEARCH('{${local.metrics_namespace},Function,Engine,Outcome} MetricName=\"DatabasesCollected\"', 'Sum', 300)", id = "collected", label = "" }],
            [{ expression = "SEARCH('{${local.metrics_namespace},Function,Engine,Outcome} MetricName=\"DatabasesFailed\"', 'Sum', 300)", id = "failed", label = "" }],
          ]
        }
      },
      {
        type = "metric", x = 12, y = 0, width = 12, height = 6
        properties = {
          title  = "Reports: requested, jobs published, finalized, rows written"
          region = local.region
          stat   = "Sum"
          period = 300
          metrics = [
            [local.metrics_namespace, "ReportsRequested", "Function", "publisher"],
            [local.metrics_namespace, "JobsPublished", "Function", "publisher", { yAxis = "right" }],
            [local.metrics_namespace, "ReportsFinalized", "Function", "reporter"],
            [local.metrics_namespace, "RowsWritten", "Function", "reporter", { yAxis = "right" }],
          ]
        }
      },
      {
        type = "metric", x = 0, y = 6, width = 12, height = 6
        properties = {
          title  = "Collection duration per engine (p50, p95, ms)"
          region = local.region
          period = 300
          metrics = [
            [{ expression = "SEARCH('{${local.metrics_namespace},Function,Engine,Outcome} MetricName=\"CollectionDuration\"', 'p50', 300)", id = "p50", label = "p50" }],
            [{ expression = "SEARCH('{${local.metrics_namespace},Function,Engine,Outcome} MetricName=\"CollectionDuration\"', 'p95', 300)", id = "p95", label = "p95" }],
          ]
        }
      },
      {
        type = "metric", x = 12, y = 6, width = 12, height = 6
        properties = {
          title  = "Request → report (ms) and principals"
          region = local.region
          period = 300
          metrics = [
            [local.metrics_namespace, "FinalizeLatency", "Function", "reporter", { stat = "Maximum" }],
            [{ expression = "SUM(SEARCH('{${local.metrics_namespace},Function,Engine,Outcome} MetricName=\"AdminsFound\"', 'Sum', 300))", id = "admins", label = "Admins found", yAxis = "right" }],
            [{ expression = "SUM(SEARCH('{${local.metrics_namespace},Function,Engine,Outcome} MetricName=\"PrincipalsExamined\"', 'Sum', 300))", id = "examined", label = "Principals examined", yAxis = "right" }],
          ]
        }
      },
      {
        type = "metric", x = 0, y = 12, width = 12, height = 6
        properties = {
          title  = "Queues: waiting and oldest (s)"
          region = local.region
          stat   = "Maximum"
          period = 60
          metrics = concat(
            [for k, q in aws_sqs_queue.main : ["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", q.name]],
            [for k, q in aws_sqs_queue.main : ["AWS/SQS", "ApproximateAgeOfOldestMessage", "QueueName", q.name, { yAxis = "right" }]],
          )
        }
      },
      {
        type = "metric", x = 12, y = 12, width = 12, height = 6
        properties = {
          title  = "Dead-letter queues and DLQ sends"
          region = local.region
          stat   = "Maximum"
          period = 60
          metrics = concat(
            [for k, q in aws_sqs_queue.dlq : ["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", q.name]],
            [for f in local.functions : [local.metrics_namespace, "DlqSends", "Function", f, { stat = "Sum" }]],
          )
        }
      },
      {
        type = "metric", x = 0, y = 18, width = 24, height = 6
        properties = {
          title  = "Functions: errors, throttles, longest invocation (ms)"
          region = local.region
          period = 300
          metrics = concat(
            [for f in local.functions : ["AWS/Lambda", "Errors", "FunctionName", aws_lambda_function.function[f].function_name, { stat = "Sum" }]],
            [for f in local.functions : ["AWS/Lambda", "Throttles", "FunctionName", aws_lambda_function.function[f].function_name, { stat = "Sum" }]],
            [for f in local.functions : ["AWS/Lambda", "Duration", "FunctionName", aws_lambda_function.function[f].function_name, { stat = "Maximum", yAxis = "right" }]],
          )
        }
      },
    ]
  })
}

# ---------------------------------------------------------------------------------------------
# Optional schedule (off unless var.schedule is set): EventBridge Scheduler sends a report request
# for the configured inventory and filters, so evidence exists across a SOC 2 Type II period
# without anyone remembering. The body names no report id: the publisher makes one from the
# queue's record (send time and message id). The manifest's requested_by is the scheduler role
# (as SQS recorded the sender); requested_by_claimed says "schedule NAME".
# ---------------------------------------------------------------------------------------------

resource "aws_iam_role" "scheduler" {
  count = var.schedule == null ? 0 : 1
  name  = "${var.name_prefix}-scheduler"
  assume_role_policy = templatefile("${local.policies}/scheduler-trust.json", {
    account = local.account
  })
  tags = var.tags
}

resource "aws_iam_role_policy" "scheduler" {
  count = var.schedule == null ? 0 : 1
  name  = "send-report-requests"
  role  = aws_iam_role.scheduler[0].id
  policy = templatefile("${local.policies}/scheduler.json", {
    requests_queue_arn = aws_sqs_queue.main["requests"].arn
    key_arn            = aws_kms_key.main.arn
  })
}

resource "aws_scheduler_schedule" "report" {
  count                        = var.schedule == null ? 0 : 1
  name                         = "${var.name_prefix}-report"
  description                  = "Requests a db-admin-report report of ${var.schedule.inventory}"
  schedule_expression          = var.schedule.expression
  schedule_expression_timezone = var.schedule.timezone
  kms_key_arn                  = aws_kms_key.main.arn
  flexible_time_window {
    mode = "OFF"
  }
  target {
    arn      = aws_sqs_queue.main["requests"].arn
    role_arn = aws_iam_role.scheduler[0].arn
    input = jsonencode(merge({
      schema_version = 1
      report_id      = ""
      requested_by   = "schedule ${var.name_prefix}-report"
      requested_at   = ""
      inventory      = var.schedule.inventory
      filters = {
        accounts = var.schedule.accounts
        regions  = var.schedule.regions
        engines  = var.schedule.engines
      }
    }, var.schedule.baseline == null ? {} : { baseline = var.schedule.baseline }))
    retry_policy {
      maximum_retry_attempts       = 3
      maximum_event_age_in_seconds = 3600
    }
  }
}
