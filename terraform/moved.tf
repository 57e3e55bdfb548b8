# Where resources were merged into one for_each resource: an applied stack keeps
# its resources (a move in the plan, no destroy and create).

moved {
  from = aws_sqs_queue.rotations_dlq
  to   = aws_sqs_queue.failures["rotations-dlq"]
}

moved {
  from = aws_sqs_queue.processor_failures
  to   = aws_sqs_queue.failures["processor-failures"]
}

moved {
  from = aws_lambda_function.processor
  to   = aws_lambda_function.functions["processor"]
}

moved {
  from = aws_lambda_function.worker
  to   = aws_lambda_function.functions["worker"]
}

moved {
  from = aws_iam_role_policy.processor
  to   = aws_iam_role_policy.functions["processor"]
}

moved {
  from = aws_iam_role_policy.worker
  to   = aws_iam_role_policy.functions["worker"]
}

moved {
  from = aws_cloudwatch_metric_alarm.dead_letters["rotations-dlq"]
  to   = aws_cloudwatch_metric_alarm.alarms["rotations-dlq-not-empty"]
}

moved {
  from = aws_cloudwatch_metric_alarm.dead_letters["processor-failures"]
  to   = aws_cloudwatch_metric_alarm.alarms["processor-failures-not-empty"]
}

moved {
  from = aws_cloudwatch_metric_alarm.function_errors["processor"]
  to   = aws_cloudwatch_metric_alarm.alarms["processor-errors"]
}

moved {
  from = aws_cloudwatch_metric_alarm.function_errors["worker"]
  to   = aws_cloudwatch_metric_alarm.alarms["worker-errors"]
}

moved {
  from = aws_cloudwatch_metric_alarm.function_throttles["processor"]
  to   = aws_cloudwatch_metric_alarm.alarms["processor-throttles"]
}

moved {
  from = aws_cloudwatch_metric_alarm.function_throttles["worker"]
  to   = aws_cloudwatch_metric_alarm.alarms["worker-throttles"]
}

moved {
  from = aws_cloudwatch_metric_alarm.oldest_rotation
  to   = aws_cloudwatch_metric_alarm.alarms["rotations-oldest-message"]
}
