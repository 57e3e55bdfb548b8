# Alarms on what needs a person: dead letters, function errors and throttles, a
# queue that stops draining. All go to one topic (email by variable).

resource "aws_sns_topic" "alarms" {
  #checkov:skip=CKV_AWS_26:CloudWatch cannot publish to a topic encrypted with the AWS-managed aws/sns key; with var.kms_key_arn set the topic uses that key (its policy must allow cloudwatch.amazonaws.com). Alarm messages carry no image data.
  name              = "${local.name}-alarms"
  kms_master_key_id = var.kms_key_arn
}

resource "aws_sns_topic_subscription" "alarm_email" {
  count = var.alarm_email == "" ? 0 : 1

  topic_arn = aws_sns_topic.alarms.arn
  protocol  = "email"
  endpoint  = var.alarm_email
}

locals {
  alarm_actions = [aws_sns_topic.alarms.arn]

  # Any message in these queues is a failure someone should look at.
  dead_letter_alarms = {
    for key, queue in aws_sqs_queue.failures : "${key}-not-empty" => {
      name        = "${local.name}-${key}-not-empty"
      description = "Messages in ${queue.name}: work that failed after every retry. Read them, fix the cause, redrive."
      namespace   = "AWS/SQS"
      metric      = "ApproximateNumberOfMessagesVisible"
      dimensions  = { QueueName = queue.name }
      statistic   = "Maximum"
      threshold   = 0
    }
  }
  # Faults and throttles of each function.
  function_metrics = {
    errors = {
      metric = "Errors"
      says   = "failed invocations (faults, not rejected images: those are successes). See its log group."
    }
    throttles = {
      metric = "Throttles"
      says   = "was throttled: the account's concurrency is exhausted. Work waits and retries; raise the quota if it persists."
    }
  }
  function_alarms = merge([
    for key, function in aws_lambda_function.functions : {
      for kind, metric in local.function_metrics : "${key}-${kind}" => {
        name        = "${function.function_name}-${kind}"
        description = "${function.function_name} ${metric.says}"
        namespace   = "AWS/Lambda"
        metric      = metric.metric
        dimensions  = { FunctionName = function.function_name }
        statistic   = "Sum"
        threshold   = 0
      }
    }
  ]...)

  oldest_rotation_alarm = {
    rotations-oldest-message = {
      name        = "${aws_sqs_queue.rotations.name}-oldest-message"
      description = "A rotation task has waited over ${var.oldest_message_alarm_secs} s: the worker is failing, throttled or stopped."
      namespace   = "AWS/SQS"
      metric      = "ApproximateAgeOfOldestMessage"
      dimensions  = { QueueName = aws_sqs_queue.rotations.name }
      statistic   = "Maximum"
      threshold   = var.oldest_message_alarm_secs
    }
  }
}

# Every alarm: its metric's statistic over one period above its threshold.
resource "aws_cloudwatch_metric_alarm" "alarms" {
  for_each = merge(local.dead_letter_alarms, local.function_alarms, local.oldest_rotation_alarm)

  alarm_name          = each.value.name
  alarm_description   = each.value.description
  namespace           = each.value.namespace
  metric_name         = each.value.metric
  dimensions          = each.value.dimensions
  statistic           = each.value.statistic
  period              = local.alarm_period_secs
  evaluation_periods  = 1
  comparison_operator = "GreaterThanThreshold"
  threshold           = each.value.threshold
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
}
