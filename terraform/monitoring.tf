# What an operator watches: one dashboard with the original design's key metrics
# (function duration and error rate, queue depth, dead letters, S3 requests, the
# bucket's size), S3 request metrics to feed it, and the two alerts that are about
# money rather than faults: the bucket's size and the month's cost.

locals {
  # The request-metrics filter's id; CloudWatch's `FilterId` dimension names it.
  request_metrics_filter = "EntireBucket"

  dashboard_functions = [for key, function in aws_lambda_function.functions : function.function_name]
  dashboard_queues = merge(
    { rotations = aws_sqs_queue.rotations.name },
    { for key, queue in aws_sqs_queue.failures : key => queue.name },
  )

  # One widget: a title, its metrics, a statistic and a period (5 min unless the
  # metric is daily).
  dashboard_widgets = [
    {
      title = "Function duration, p50 and p95 (ms)"
      metrics = flatten([for name in local.dashboard_functions : [
        ["AWS/Lambda", "Duration", "FunctionName", name, { stat = "p50", label = "${name} p50" }],
        ["AWS/Lambda", "Duration", "FunctionName", name, { stat = "p95", label = "${name} p95" }],
      ]])
      period = 300
    },
    {
      title = "Function invocations and errors"
      metrics = flatten([for name in local.dashboard_functions : [
        ["AWS/Lambda", "Invocations", "FunctionName", name, { stat = "Sum" }],
        ["AWS/Lambda", "Errors", "FunctionName", name, { stat = "Sum" }],
        ["AWS/Lambda", "Throttles", "FunctionName", name, { stat = "Sum" }],
      ]])
      period = 300
    },
    {
      title = "Queue depth: waiting and in flight"
      metrics = flatten([for key, name in local.dashboard_queues : [
        ["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", name, { stat = "Maximum", label = "${key} waiting" }],
        ["AWS/SQS", "ApproximateNumberOfMessagesNotVisible", "QueueName", name, { stat = "Maximum", label = "${key} in flight" }],
      ]])
      period = 300
    },
    {
      title = "Oldest rotation task (s)"
      metrics = [
        ["AWS/SQS", "ApproximateAgeOfOldestMessage", "QueueName", aws_sqs_queue.rotations.name, { stat = "Maximum" }],
      ]
      period = 300
    },
    {
      title = "S3 requests and errors"
      metrics = [for metric in ["AllRequests", "PutRequests", "GetRequests", "ListRequests", "4xxErrors", "5xxErrors"] :
        ["AWS/S3", metric, "BucketName", aws_s3_bucket.images.id, "FilterId", local.request_metrics_filter, { stat = "Sum" }]
      ]
      period = 300
    },
    {
      title = "Bucket size (bytes) and objects (daily)"
      metrics = [
        ["AWS/S3", "BucketSizeBytes", "BucketName", aws_s3_bucket.images.id, "StorageType", "StandardStorage", { stat = "Average" }],
        ["AWS/S3", "NumberOfObjects", "BucketName", aws_s3_bucket.images.id, "StorageType", "AllStorageTypes", { stat = "Average", yAxis = "right" }],
      ]
      period = 86400
    },
  ]
}

resource "aws_cloudwatch_dashboard" "pipeline" {
  dashboard_name = local.name
  dashboard_body = jsonencode({
    widgets = [for index, widget in local.dashboard_widgets : {
      type   = "metric"
      x      = (index % 2) * 12
      y      = floor(index / 2) * 6
      width  = 12
      height = 6
      properties = {
        title   = widget.title
        metrics = widget.metrics
        period  = widget.period
        region  = var.region
        view    = "timeSeries"
        stacked = false
      }
    }]
  })
}

# Request metrics (per-minute request counts and errors) for the whole bucket.
# CloudWatch bills them as custom metrics: var.s3_request_metrics turns them off.
resource "aws_s3_bucket_metric" "requests" {
  count = var.s3_request_metrics ? 1 : 0

  bucket = aws_s3_bucket.images.id
  name   = local.request_metrics_filter
}

# The bucket's size, from S3's daily storage metric.
resource "aws_cloudwatch_metric_alarm" "bucket_size" {
  count = var.bucket_size_alarm_gib == null ? 0 : 1

  alarm_name          = "${local.name}-bucket-size"
  alarm_description   = "${aws_s3_bucket.images.id} holds over ${var.bucket_size_alarm_gib} GiB (S3 Standard): storage costs grow with it. Download what you need, delete what you don't, or shorten output_expiration_days."
  namespace           = "AWS/S3"
  metric_name         = "BucketSizeBytes"
  dimensions          = { BucketName = aws_s3_bucket.images.id, StorageType = "StandardStorage" }
  statistic           = "Average"
  period              = 86400
  evaluation_periods  = 1
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.bucket_size_alarm_gib * 1024 * 1024 * 1024
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
}

# The month's cost of this stack's resources (by its Project tag), forecast and
# actual, to the alarm topic.
resource "aws_budgets_budget" "monthly" {
  count = var.monthly_budget_usd == null ? 0 : 1

  name         = "${local.name}-monthly"
  budget_type  = "COST"
  limit_amount = format("%.2f", var.monthly_budget_usd)
  limit_unit   = "USD"
  time_unit    = "MONTHLY"

  # Costs are attributed by tag only once the Project tag is activated as a cost
  # allocation tag (Billing console, once per account): README says so.
  cost_filter {
    name   = "TagKeyValue"
    values = ["user:Project$${var.project}"]
  }

  dynamic "notification" {
    for_each = { ACTUAL = 100, FORECASTED = 100 }
    content {
      comparison_operator       = "GREATER_THAN"
      notification_type         = notification.key
      threshold                 = notification.value
      threshold_type            = "PERCENTAGE"
      subscriber_sns_topic_arns = [aws_sns_topic.alarms.arn]
    }
  }
}

# Budgets publishes to the alarm topic as a service; CloudWatch alarms of this
# account may too.
data "aws_iam_policy_document" "alarm_topic" {
  statement {
    sid       = "AlarmsAndBudgetsPublish"
    actions   = ["sns:Publish"]
    resources = [aws_sns_topic.alarms.arn]
    principals {
      type        = "Service"
      identifiers = ["budgets.amazonaws.com", "cloudwatch.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

resource "aws_sns_topic_policy" "alarms" {
  arn    = aws_sns_topic.alarms.arn
  policy = data.aws_iam_policy_document.alarm_topic.json
}
