# One role per function, each allowed exactly its part of the bucket contract,
# its one queue and its own log group.

data "aws_iam_policy_document" "lambda_assume" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "functions" {
  for_each = local.functions

  name               = "${local.name}-${each.value}"
  assume_role_policy = data.aws_iam_policy_document.lambda_assume.json
}

locals {
  bucket_arn = aws_s3_bucket.images.arn

  # Each function's part of the bucket contract and its queues.
  function_statements = {
    processor = [
      { sid = "ReadUploads", actions = ["s3:GetObject"], resources = ["${local.bucket_arn}/${local.upload_prefix}*"] },
      # Without ListBucket, S3 answers 403 for a missing key: an upload deleted
      # before its (late or repeated) event would fail and be retried instead of
      # being skipped as gone. It shows key names, not contents.
      { sid = "TellMissingFromForbidden", actions = ["s3:ListBucket"], resources = [local.bucket_arn] },
      {
        sid       = "WriteProcessedAndFailed"
        actions   = ["s3:PutObject"]
        resources = ["${local.bucket_arn}/${local.processed_prefix}*", "${local.bucket_arn}/${local.failed_prefix}*"]
      },
      # HeadObject of its own outputs: the S3 event sequencer they record, so that a
      # late, older event never writes over a newer upload's results.
      {
        sid       = "ReadOwnOutputsOrder"
        actions   = ["s3:GetObject"]
        resources = ["${local.bucket_arn}/${local.processed_prefix}*", "${local.bucket_arn}/${local.failed_prefix}*"]
      },
      # A success deletes the name's stale failed record.
      { sid = "ClearStaleFailed", actions = ["s3:DeleteObject"], resources = ["${local.bucket_arn}/${local.failed_prefix}*"] },
      { sid = "QueueRotations", actions = ["sqs:SendMessage"], resources = [aws_sqs_queue.rotations.arn] },
      # The on-failure destination: Lambda sends with the function's role.
      { sid = "OnFailureDestination", actions = ["sqs:SendMessage"], resources = [aws_sqs_queue.failures["processor-failures"].arn] },
    ]
    worker = [
      { sid = "ReadProcessed", actions = ["s3:GetObject"], resources = ["${local.bucket_arn}/${local.processed_prefix}*"] },
      # Without ListBucket, S3 answers 403 for a missing key: a task whose image was
      # deleted (Delete… while its rotations were queued) would fail into the
      # dead-letter queue instead of ending as gone. Its own prefix only: the
      # worker asks a 403 again as a one-key listing of the processed key.
      {
        sid           = "TellMissingFromForbidden"
        actions       = ["s3:ListBucket"]
        resources     = [local.bucket_arn]
        list_prefixes = ["${local.processed_prefix}*"]
      },
      { sid = "WriteRotations", actions = ["s3:PutObject"], resources = ["${local.bucket_arn}/${local.augmented_prefix}*"] },
      # A rotation written just as its image was deleted deletes itself again.
      { sid = "RemoveOrphanRotations", actions = ["s3:DeleteObject"], resources = ["${local.bucket_arn}/${local.augmented_prefix}*"] },
      # What the SQS event source mapping does with the function's role.
      {
        sid       = "ConsumeRotations"
        actions   = ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility", "sqs:GetQueueAttributes"]
        resources = [aws_sqs_queue.rotations.arn]
      },
    ]
  }
}

# Each function's policy: its own statements above, then what every function may
# do: write traces, write its own log group, and use the stack's key when there
# is one. X-Ray's write actions have no resource-level permissions: "*" is the
# only resource they accept (AWSXRayDaemonWriteAccess says the same).
data "aws_iam_policy_document" "functions" {
  for_each = local.functions

  source_policy_documents = data.aws_iam_policy_document.use_stack_key[*].json

  dynamic "statement" {
    for_each = local.function_statements[each.key]

    content {
      sid       = statement.value.sid
      actions   = statement.value.actions
      resources = statement.value.resources

      # A listing limited to some prefixes.
      dynamic "condition" {
        for_each = length(lookup(statement.value, "list_prefixes", [])) > 0 ? [lookup(statement.value, "list_prefixes", [])] : []

        content {
          test     = "StringLike"
          variable = "s3:prefix"
          values   = condition.value
        }
      }
    }
  }

  statement {
    sid       = "XRayWrite"
    actions   = ["xray:PutTraceSegments", "xray:PutTelemetryRecords"]
    resources = ["*"]
  }

  statement {
    sid       = "OwnLogGroup"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.functions[each.key].arn}:*"]
  }

}

# Use of var.kms_key_arn (only when it is set), one statement that the functions'
# roles and the operator's policy include.
data "aws_iam_policy_document" "use_stack_key" {
  count = var.kms_key_arn == null ? 0 : 1

  statement {
    sid       = "UseStackKey"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = [var.kms_key_arn]
  }
}

resource "aws_iam_role_policy" "functions" {
  for_each = local.functions

  name   = "least-privilege"
  role   = aws_iam_role.functions[each.key].id
  policy = data.aws_iam_policy_document.functions[each.key].json
}
