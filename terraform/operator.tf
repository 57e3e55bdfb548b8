# The operator's policy: exactly what `augment status`, `augment logs` and
# `augment redrive` need, shipped as an output to attach to the people who run
# the stack. Read-only on the bucket (listing and the outputs' metadata; never
# the originals' bytes), the queues' counts, both functions' logs; and the two
# writes a re-drive makes: moving dead letters back (SQS's message move task) and
# invoking the processor again for an upload.

locals {
  operator_statements = [
    {
      sid       = "ListTheBucket"
      actions   = ["s3:ListBucket"]
      resources = [local.bucket_arn]
    },
    # Status reads the outputs' and records' metadata (times, the source's hash).
    {
      sid       = "ReadOutputsAndRecords"
      actions   = ["s3:GetObject"]
      resources = [for prefix in [local.processed_prefix, local.augmented_prefix, local.failed_prefix] : "${local.bucket_arn}/${prefix}*"]
    },
    {
      sid       = "QueueCounts"
      actions   = ["sqs:GetQueueAttributes", "sqs:GetQueueUrl"]
      resources = concat([aws_sqs_queue.rotations.arn], [for queue in aws_sqs_queue.failures : queue.arn])
    },
    # Re-drive: the rotation dead letters back onto the rotation queue with SQS's
    # own message move task (it needs these on the source and SendMessage on the
    # target).
    {
      sid       = "MoveDeadLetters"
      actions   = ["sqs:StartMessageMoveTask", "sqs:ListMessageMoveTasks", "sqs:CancelMessageMoveTask", "sqs:ReceiveMessage", "sqs:DeleteMessage"]
      resources = [for queue in aws_sqs_queue.failures : queue.arn]
    },
    {
      sid       = "SendToTheRotationQueue"
      actions   = ["sqs:SendMessage"]
      resources = [aws_sqs_queue.rotations.arn]
    },
    # Re-drive: the processor's failed events and stuck uploads invoked again.
    {
      sid       = "InvokeTheProcessor"
      actions   = ["lambda:InvokeFunction"]
      resources = [aws_lambda_function.functions["processor"].arn]
    },
    {
      sid       = "ReadFunctionLogs"
      actions   = ["logs:FilterLogEvents", "logs:GetLogEvents", "logs:DescribeLogStreams", "logs:StartLiveTail"]
      resources = flatten([for group in aws_cloudwatch_log_group.functions : [group.arn, "${group.arn}:*"]])
    },
  ]
}

data "aws_iam_policy_document" "operator" {
  source_policy_documents = data.aws_iam_policy_document.use_stack_key[*].json

  dynamic "statement" {
    for_each = local.operator_statements

    content {
      sid       = statement.value.sid
      actions   = statement.value.actions
      resources = statement.value.resources
    }
  }
}
