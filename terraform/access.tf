# Who else uses the stack's resources: the people who run the desktop app or the
# CLI (identity policies to attach to their users, groups or roles), and, with
# var.kms_key_arn set, the services that must use the key (a key policy). Shipped
# as outputs; nothing here is attached by the stack itself.

locals {
  # Every prefix the app and the CLI list: the name check lists original-uploads/,
  # the gallery pages through processed/, the rest is for scripts and the console.
  app_listed_prefixes = [local.upload_prefix, local.processed_prefix, local.augmented_prefix, local.failed_prefix]
  # What the app and the CLI read: outputs and rejection records. Nobody here
  # reads originals: in a shared bucket they are everyone's photos.
  app_read_prefixes = [local.processed_prefix, local.augmented_prefix, local.failed_prefix]
  # What the app's Delete… deletes: the original(s), the processed image, the four
  # rotations, the failed record.
  app_deleted_prefixes = local.app_listed_prefixes

  # Services reach a customer-managed key only through the stack's own services.
  kms_via_services = [for service in ["s3", "sqs"] : "${service}.${var.region}.amazonaws.com"]
}

# The app's two policies, one document each: `user` uploads, browses, downloads
# and deletes (everything the desktop app and `augment` do); `viewer` browses and
# downloads only (the gallery, Save to folder…, `augment download`/`--out`).
locals {
  app_policies = {
    user = {
      list_sid = "ListContractPrefixes"
      listed   = local.app_listed_prefixes
      writes = [
        {
          sid       = "Upload"
          actions   = ["s3:PutObject"]
          resources = ["${local.bucket_arn}/${local.upload_prefix}*"]
        },
        # The duplicate question compares a file's SHA-256 with the tag an upload
        # of the same name carries (written with the upload: PutObject's Tagging
        # header, which S3 authorises as s3:PutObjectTagging too; read with
        # GetObjectTagging). The tag tells the hash and nothing of the image:
        # originals stay unreadable.
        {
          sid       = "HashTagOfUploads"
          actions   = ["s3:PutObjectTagging", "s3:GetObjectTagging"]
          resources = ["${local.bucket_arn}/${local.upload_prefix}*"]
        },
        {
          sid       = "DeleteImages"
          actions   = ["s3:DeleteObject"]
          resources = [for prefix in local.app_deleted_prefixes : "${local.bucket_arn}/${prefix}*"]
        },
      ]
      key_sid     = "UseStackKeyThroughS3"
      key_actions = ["kms:Decrypt", "kms:GenerateDataKey"]
    }
    viewer = {
      list_sid    = "ListOutputPrefixes"
      listed      = local.app_read_prefixes
      writes      = []
      key_sid     = "DecryptThroughS3"
      key_actions = ["kms:Decrypt"]
    }
  }
}

data "aws_iam_policy_document" "app" {
  for_each = local.app_policies

  statement {
    sid       = each.value.list_sid
    actions   = ["s3:ListBucket"]
    resources = [local.bucket_arn]

    condition {
      test     = "StringLike"
      variable = "s3:prefix"
      values   = [for prefix in each.value.listed : "${prefix}*"]
    }
  }

  statement {
    sid       = "ReadOutputs"
    actions   = ["s3:GetObject"]
    resources = [for prefix in local.app_read_prefixes : "${local.bucket_arn}/${prefix}*"]
  }

  dynamic "statement" {
    for_each = each.value.writes

    content {
      sid       = statement.value.sid
      actions   = statement.value.actions
      resources = statement.value.resources
    }
  }

  dynamic "statement" {
    for_each = var.kms_key_arn == null ? [] : [var.kms_key_arn]

    content {
      sid       = each.value.key_sid
      actions   = each.value.key_actions
      resources = [statement.value]

      condition {
        test     = "StringEquals"
        variable = "kms:ViaService"
        values   = ["s3.${var.region}.amazonaws.com"]
      }
    }
  }
}

# The key policy the stack needs on var.kms_key_arn (only rendered when it is set).
# The first statement is the key's usual default, which lets IAM policies (the
# roles' UseStackKey, the app users' statements above) grant use of the key; keep
# the key's own administrator statements beside these.
data "aws_iam_policy_document" "kms_key" {
  count = var.kms_key_arn == null ? 0 : 1

  statement {
    sid       = "AccountIamPolicies"
    actions   = ["kms:*"]
    resources = ["*"]

    principals {
      type        = "AWS"
      identifiers = ["arn:${local.partition}:iam::${local.account_id}:root"]
    }
  }

  # S3 objects (SSE-KMS, bucket keys) and SQS messages, read and written by the
  # functions' roles; Lambda's on-failure destination sends with the processor's.
  statement {
    sid       = "FunctionsThroughS3AndSqs"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = ["*"]

    principals {
      type        = "AWS"
      identifiers = [for key in keys(local.functions) : aws_iam_role.functions[key].arn]
    }

    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = local.kms_via_services
    }
  }

  # CloudWatch Logs encrypts the two log groups with the key itself, as the
  # logs.<region> service principal, naming the log group in the encryption context.
  statement {
    sid       = "LogGroups"
    actions   = ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"]
    resources = ["*"]

    principals {
      type        = "Service"
      identifiers = ["logs.${var.region}.amazonaws.com"]
    }

    condition {
      test     = "ArnEquals"
      variable = "kms:EncryptionContext:aws:logs:arn"
      values   = [for group in aws_cloudwatch_log_group.functions : group.arn]
    }
  }

  # CloudWatch alarms publish to the encrypted alarm topic: SNS asks for a data key
  # on CloudWatch's behalf.
  statement {
    sid       = "AlarmsToTopic"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = ["*"]

    principals {
      type        = "Service"
      identifiers = ["cloudwatch.amazonaws.com"]
    }
  }
}
