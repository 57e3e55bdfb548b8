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

# X-Ray's write actions have no resource-level permissions: "*" is the only
# resource they accept (AWSXRayDaemonWriteAccess says the same).
data "aws_iam_policy_document" "xray" {
  statement {
    sid       = "XRayWrite"
    actions   = ["xray:PutTraceSegments", "xray:PutTelemetryRecords"]
    resources = ["*"]
  }
}

data "aws_iam_policy_document" "processor" {
  source_policy_documents = [data.aws_iam_policy_document.xray.json]

  statement {
    sid       = "ReadUploads"
    actions   = ["s3:GetObject"]
    resources = ["${aws_s3_bucket.images.arn}/${local.upload_prefix}*"]
  }

  # Without ListBucket, S3 answers 403 for a missing key: an upload deleted before
  # its (late or repeated) event would fail and be retried instead of being skipped
  # as gone. It shows key names, not contents.
  statement {
    sid       = "TellMissingFromForbidden"
    actions   = ["s3:ListBucket"]
    resources = [aws_s3_bucket.images.arn]
  }

  statement {
    sid     = "WriteProcessedAndFailed"
    actions = ["s3:PutObject"]
    resources = [
      "${aws_s3_bucket.images.arn}/${local.processed_prefix}*",
      "${aws_s3_bucket.images.arn}/${local.failed_prefix}*",
    ]
  }

  statement {
    sid       = "QueueRotations"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.rotations.arn]
  }

  # The on-failure destination: Lambda sends with the function's role.
  statement {
    sid       = "OnFailureDestination"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.processor_failures.arn]
  }

  statement {
    sid       = "OwnLogGroup"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.functions["processor"].arn}:*"]
  }

  dynamic "statement" {
    for_each = var.kms_key_arn == null ? [] : [var.kms_key_arn]

    content {
      sid       = "UseStackKey"
      actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
      resources = [statement.value]
    }
  }
}

data "aws_iam_policy_document" "worker" {
  source_policy_documents = [data.aws_iam_policy_document.xray.json]

  statement {
    sid       = "ReadProcessed"
    actions   = ["s3:GetObject"]
    resources = ["${aws_s3_bucket.images.arn}/${local.processed_prefix}*"]
  }

  statement {
    sid       = "WriteRotations"
    actions   = ["s3:PutObject"]
    resources = ["${aws_s3_bucket.images.arn}/${local.augmented_prefix}*"]
  }

  # What the SQS event source mapping does with the function's role.
  statement {
    sid = "ConsumeRotations"
    actions = [
      "sqs:ReceiveMessage",
      "sqs:DeleteMessage",
      "sqs:ChangeMessageVisibility",
      "sqs:GetQueueAttributes",
    ]
    resources = [aws_sqs_queue.rotations.arn]
  }

  statement {
    sid       = "OwnLogGroup"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.functions["worker"].arn}:*"]
  }

  dynamic "statement" {
    for_each = var.kms_key_arn == null ? [] : [var.kms_key_arn]

    content {
      sid       = "UseStackKey"
      actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
      resources = [statement.value]
    }
  }
}

resource "aws_iam_role_policy" "processor" {
  name   = "least-privilege"
  role   = aws_iam_role.functions["processor"].id
  policy = data.aws_iam_policy_document.processor.json
}

resource "aws_iam_role_policy" "worker" {
  name   = "least-privilege"
  role   = aws_iam_role.functions["worker"].id
  policy = data.aws_iam_policy_document.worker.json
}
