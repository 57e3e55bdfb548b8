# The one bucket: uploads, outputs and rejection records (the bucket contract in
# lambdas/pipeline/src/contract.rs).

locals {
  # The bucket contract's prefixes; IAM, the trigger and lifecycle use these.
  upload_prefix    = "original-uploads/"
  processed_prefix = "processed/"
  augmented_prefix = "augmented-images/"
  failed_prefix    = "failed/"
}

resource "aws_s3_bucket" "images" {
  #checkov:skip=CKV_AWS_18:Access logging would need a second bucket per stack; the app is the only writer, and CloudTrail data events can be turned on when an audit needs them.
  #checkov:skip=CKV_AWS_144:Cross-region replication doubles storage for data that is either the user's own upload (they hold the original) or remade from it.
  #checkov:skip=CKV_AWS_145:SSE-S3 (AES256) by default as the original design; set var.kms_key_arn for SSE-KMS (it adds a KMS request per object).
  # A generated suffix after project-environment- makes the name globally unique.
  bucket_prefix = "${local.name}-"
  # Deleting a stack must not silently delete images: `cargo xtask destroy` turns
  # this on (and so empties the bucket, every version) only after asking.
  force_destroy = var.force_destroy
}

resource "aws_s3_bucket_versioning" "images" {
  bucket = aws_s3_bucket.images.id

  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "images" {
  bucket = aws_s3_bucket.images.id

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = var.kms_key_arn == null ? "AES256" : "aws:kms"
      kms_master_key_id = var.kms_key_arn
    }
    # With KMS: one data key per bucket, not per object (fewer KMS requests).
    bucket_key_enabled = var.kms_key_arn != null
  }
}

resource "aws_s3_bucket_public_access_block" "images" {
  bucket = aws_s3_bucket.images.id

  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_ownership_controls" "images" {
  bucket = aws_s3_bucket.images.id

  # ACLs off: access is decided by IAM and the bucket policy alone.
  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

data "aws_iam_policy_document" "bucket" {
  statement {
    sid     = "DenyInsecureTransport"
    effect  = "Deny"
    actions = ["s3:*"]
    resources = [
      aws_s3_bucket.images.arn,
      "${aws_s3_bucket.images.arn}/*",
    ]

    principals {
      type        = "*"
      identifiers = ["*"]
    }

    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}

resource "aws_s3_bucket_policy" "images" {
  bucket = aws_s3_bucket.images.id
  policy = data.aws_iam_policy_document.bucket.json

  # S3 refuses a policy while the public access block is being written.
  depends_on = [aws_s3_bucket_public_access_block.images]
}

resource "aws_s3_bucket_lifecycle_configuration" "images" {
  bucket = aws_s3_bucket.images.id

  rule {
    id     = "abort-incomplete-multipart-uploads"
    status = "Enabled"

    filter {}

    abort_incomplete_multipart_upload {
      days_after_initiation = var.abort_incomplete_multipart_upload_days
    }
  }

  rule {
    id     = "expire-noncurrent-versions"
    status = "Enabled"

    filter {}

    noncurrent_version_expiration {
      noncurrent_days = var.noncurrent_version_expiration_days
    }
  }

  dynamic "rule" {
    for_each = var.output_expiration_days > 0 ? [local.processed_prefix, local.augmented_prefix] : []

    content {
      id     = "expire-${trimsuffix(rule.value, "/")}"
      status = "Enabled"

      filter {
        prefix = rule.value
      }

      expiration {
        days = var.output_expiration_days
      }
    }
  }

  # Lifecycle rules apply to versions only once versioning is on.
  depends_on = [aws_s3_bucket_versioning.images]
}

# Only uploads start work, and by prefix alone: `.JPG`, `.Jpeg` and any other
# name are the processor's to judge (it writes failed/ for what it rejects).
resource "aws_s3_bucket_notification" "images" {
  bucket = aws_s3_bucket.images.id

  lambda_function {
    id                  = "original-uploads"
    lambda_function_arn = aws_lambda_function.functions["processor"].arn
    events              = ["s3:ObjectCreated:*"]
    filter_prefix       = local.upload_prefix
  }

  # S3 checks that it may invoke the function when the notification is saved.
  depends_on = [aws_lambda_permission.processor_from_s3]
}

# No CORS configuration: the only client is the desktop app, which calls S3 through
# the AWS SDK, not from a browser page.
