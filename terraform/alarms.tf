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
  dead_letter_queues = {
    rotations-dlq      = aws_sqs_queue.rotations_dlq.name
    processor-failures = aws_sqs_queue.processor_failures.name
  }
}

resource "aws_cloudwatch_metric_alarm" "dead_letters" {
  for_each = local.dead_letter_queues

  alarm_name          = "${local.name}-${each.key}-not-empty"
  alarm_description   = "Messages in ${each.value}: work that failed after every retry. Read them, fix the cause, redrive."
  namespace           = "AWS/SQS"
  metric_name         = "ApproximateNumberOfMessagesVisible"
  dimensions          = { QueueName = each.value }
  statistic           = "Maximum"
  period              = local.alarm_period_secs
  evaluation_periods  = 1
  comparison_operator = "GreaterThanThreshold"
  threshold           = 0
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
}

resource "aws_cloudwatch_metric_alarm" "function_errors" {
  for_each = local.function_names

  alarm_name          = "${each.value}-errors"
  alarm_description   = "${each.value} failed invocations (faults, not rejected images: those are successes). See its log group."
  namespace           = "AWS/Lambda"
  metric_name         = "Errors"
  dimensions          = { FunctionName = each.value }
  statistic           = "Sum"
  period              = local.alarm_period_secs
  evaluation_periods  = 1
  comparison_operator = "GreaterThanThreshold"
  threshold           = 0
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions

  depends_on = [aws_lambda_function.processor, aws_lambda_function.worker]
}

resource "aws_cloudwatch_metric_alarm" "function_throttles" {
  for_each = local.function_names

  alarm_name          = "${each.value}-throttles"
  alarm_description   = "${each.value} was throttled: the account's concurrency is exhausted. Work waits and retries; raise the quota if it persists."
  namespace           = "AWS/Lambda"
  metric_name         = "Throttles"
  dimensions          = { FunctionName = each.value }
  statistic           = "Sum"
  period              = local.alarm_period_secs
  evaluation_periods  = 1
  comparison_operator = "GreaterThanThreshold"
  threshold           = 0
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions

  depends_on = [aws_lambda_function.processor, aws_lambda_function.worker]
}

resource "aws_cloudwatch_metric_alarm" "oldest_rotation" {
  alarm_name          = "${aws_sqs_queue.rotations.name}-oldest-message"
  alarm_description   = "A rotation task has waited over ${var.oldest_message_alarm_secs} s: the worker is failing, throttled or stopped."
  namespace           = "AWS/SQS"
  metric_name         = "ApproximateAgeOfOldestMessage"
  dimensions          = { QueueName = aws_sqs_queue.rotations.name }
  statistic           = "Maximum"
  period              = local.alarm_period_secs
  evaluation_periods  = 1
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.oldest_message_alarm_secs
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
}
