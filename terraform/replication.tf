# Optional cross-region replication of the outputs (var.replication_region; off
# by default): a versioned bucket in the other region, S3's replication of
# processed/ and augmented-images/ into it, and the role S3 replicates as.

locals {
  replicate = var.replication_region != null
  # Outputs only: uploads are the user's own files, records are remade.
  replicated_prefixes = [local.processed_prefix, local.augmented_prefix]
}

resource "aws_s3_bucket" "replica" {
  #checkov:skip=CKV_AWS_18:The replica is written only by S3's replication; access logging would need a third bucket, CloudTrail data events serve an audit.
  #checkov:skip=CKV_AWS_144:This bucket is the replica.
  #checkov:skip=CKV_AWS_145:SSE-S3 (AES256), as the source bucket without var.kms_key_arn; replication here does not copy KMS-encrypted objects.
  #checkov:skip=CKV2_AWS_62:Nothing reacts to the replica's objects; event notifications would have no consumer.
  #checkov:skip=CKV_AWS_21:Versioned by aws_s3_bucket_versioning.replica below (replication needs it); checkov does not link a count-indexed bucket to it.
  #checkov:skip=CKV2_AWS_6:Public access blocked by aws_s3_bucket_public_access_block.replica below; checkov does not link a count-indexed bucket to it.
  #checkov:skip=CKV2_AWS_61:Lifecycle by aws_s3_bucket_lifecycle_configuration.replica below; checkov does not link a count-indexed bucket to it.
  count    = local.replicate ? 1 : 0
  provider = aws.replica

  bucket_prefix = "${local.name}-replica-"
  force_destroy = var.force_destroy
}

resource "aws_s3_bucket_versioning" "replica" {
  count    = local.replicate ? 1 : 0
  provider = aws.replica
  bucket   = aws_s3_bucket.replica[0].id

  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "replica" {
  count    = local.replicate ? 1 : 0
  provider = aws.replica
  bucket   = aws_s3_bucket.replica[0].id

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "AES256"
    }
  }
}

resource "aws_s3_bucket_public_access_block" "replica" {
  count    = local.replicate ? 1 : 0
  provider = aws.replica
  bucket   = aws_s3_bucket.replica[0].id

  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_lifecycle_configuration" "replica" {
  #checkov:skip=CKV_AWS_300:Only S3's replication writes to the replica, never a multipart upload of ours: there is nothing to abort.
  count    = local.replicate ? 1 : 0
  provider = aws.replica
  bucket   = aws_s3_bucket.replica[0].id

  # Only S3 writes here (no multipart uploads of ours to abort); a version the
  # source replaced or deleted is kept as long as the source keeps its own.
  rule {
    id     = "expire-noncurrent-replicas"
    status = "Enabled"
    filter {}
    noncurrent_version_expiration {
      noncurrent_days = var.noncurrent_version_expiration_days
    }
  }

  depends_on = [aws_s3_bucket_versioning.replica]
}

data "aws_iam_policy_document" "replication_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["s3.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "replication" {
  count = local.replicate ? 1 : 0

  name               = "${local.name}-replication"
  assume_role_policy = data.aws_iam_policy_document.replication_assume.json
}

# What S3's replication needs: read the source's configuration and the outputs'
# versions, write replicas into the other bucket. Nothing of the uploads.
data "aws_iam_policy_document" "replication" {
  count = local.replicate ? 1 : 0

  statement {
    sid       = "ReadTheConfiguration"
    actions   = ["s3:GetReplicationConfiguration", "s3:ListBucket"]
    resources = [local.bucket_arn]
  }

  statement {
    sid       = "ReadTheOutputs"
    actions   = ["s3:GetObjectVersionForReplication", "s3:GetObjectVersionAcl", "s3:GetObjectVersionTagging"]
    resources = [for prefix in local.replicated_prefixes : "${local.bucket_arn}/${prefix}*"]
  }

  statement {
    sid       = "WriteTheReplicas"
    actions   = ["s3:ReplicateObject", "s3:ReplicateDelete", "s3:ReplicateTags"]
    resources = [for prefix in local.replicated_prefixes : "${aws_s3_bucket.replica[0].arn}/${prefix}*"]
  }
}

resource "aws_iam_role_policy" "replication" {
  count = local.replicate ? 1 : 0

  name   = "replicate-outputs"
  role   = aws_iam_role.replication[0].id
  policy = data.aws_iam_policy_document.replication[0].json
}

resource "aws_s3_bucket_replication_configuration" "outputs" {
  count = local.replicate ? 1 : 0

  role   = aws_iam_role.replication[0].arn
  bucket = aws_s3_bucket.images.id

  dynamic "rule" {
    for_each = local.replicated_prefixes

    content {
      id       = "replicate-${trimsuffix(rule.value, "/")}"
      status   = "Enabled"
      priority = rule.key

      filter {
        prefix = rule.value
      }

      # A Delete… in the app removes the replica's current version too.
      delete_marker_replication {
        status = "Enabled"
      }

      destination {
        bucket        = aws_s3_bucket.replica[0].arn
        storage_class = "STANDARD"
      }
    }
  }

  lifecycle {
    precondition {
      condition     = var.kms_key_arn == null
      error_message = "replication_region with kms_key_arn: replicating KMS-encrypted objects needs a key in the replica's region, not supported here yet."
    }
  }

  # S3 refuses a replication configuration before both buckets are versioned.
  depends_on = [aws_s3_bucket_versioning.images, aws_s3_bucket_versioning.replica]
}
