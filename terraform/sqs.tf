# The rotation queue (four tasks per upload), its dead-letter queue, and the queue
# that keeps S3 events the processor failed on.

locals {
  # AWS's rule for SQS event sources: at least six times the function's timeout,
  # so a message is not redelivered while a (retried) invocation still holds it.
  visibility_timeout_secs = 6 * var.worker_timeout_secs
  # SQS's maximum: a failure waits two weeks for someone to look.
  max_retention_secs = 14 * 24 * 60 * 60
  # The alarm period of every queue and function metric.
  alarm_period_secs = 300
}

resource "aws_sqs_queue" "rotations" {
  name                       = "${local.name}-rotations"
  visibility_timeout_seconds = local.visibility_timeout_secs
  message_retention_seconds  = local.max_retention_secs
  # Long polling by default for any consumer but the event source (which
  # long-polls anyway): fewer empty receives.
  receive_wait_time_seconds = 20

  sqs_managed_sse_enabled           = var.kms_key_arn == null ? true : null
  kms_master_key_id                 = var.kms_key_arn
  kms_data_key_reuse_period_seconds = var.kms_key_arn == null ? null : 3600

  redrive_policy = jsonencode({
    deadLetterTargetArn = aws_sqs_queue.failures["rotations-dlq"].arn
    maxReceiveCount     = var.max_receive_count
  })
}

# Where failed work waits for a person, one queue each: the rotation queue's
# dead-letter queue (tasks that failed max_receive_count times), and the
# processor's on-failure destination (an S3 event whose invocation still failed
# after Lambda's retries lands here with the error, so no upload is lost; re-send
# its records to the processor, or re-upload, once the fault is fixed).
resource "aws_sqs_queue" "failures" {
  for_each = toset(["rotations-dlq", "processor-failures"])

  name                      = "${local.name}-${each.key}"
  message_retention_seconds = local.max_retention_secs

  sqs_managed_sse_enabled           = var.kms_key_arn == null ? true : null
  kms_master_key_id                 = var.kms_key_arn
  kms_data_key_reuse_period_seconds = var.kms_key_arn == null ? null : 3600
}
