# Naming and placement

variable "project" {
  description = "Project name: the first part of every resource name."
  type        = string
  default     = "image-augmentation"

  validation {
    # The bucket name is project-environment-<26 generated characters>, and S3
    # allows 63; lower case because bucket names must be.
    condition     = can(regex("^[a-z][a-z0-9-]{1,23}$", var.project))
    error_message = "project: 2-24 characters, lower-case letters, digits and hyphens, starting with a letter."
  }
}

variable "environment" {
  description = "Environment name (dev, prod, ...): the second part of every resource name, so several stacks fit in one account."
  type        = string
  default     = "dev"

  validation {
    condition     = can(regex("^[a-z][a-z0-9]{0,9}$", var.environment))
    error_message = "environment: 1-10 lower-case letters and digits, starting with a letter."
  }
}

variable "region" {
  description = "AWS region of the whole stack."
  type        = string
  default     = "us-east-1"
}

variable "tags" {
  description = "Tags added to every resource (on top of Project, Environment and ManagedBy)."
  type        = map(string)
  default     = {}
}

# Container images

variable "image_tag" {
  description = "Tag of both Lambda images in their ECR repositories. `cargo xtask deploy` pushes and passes the git commit; the repositories' tags are immutable, so a tag always means one build."
  type        = string
  default     = "latest"

  validation {
    condition     = can(regex("^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$", var.image_tag))
    error_message = "image_tag: a valid OCI tag (letters, digits, _ . -; at most 128 characters)."
  }
}

variable "ecr_keep_images" {
  description = "Images kept per ECR repository; older ones are expired (rollback needs only the last few)."
  type        = number
  default     = 10

  validation {
    condition     = var.ecr_keep_images >= 1
    error_message = "ecr_keep_images: at least 1 (the deployed image)."
  }
}

# Encryption

variable "kms_key_arn" {
  description = "A customer-managed KMS key for the bucket, the queues, the log groups and the alarm topic. Its key policy must allow the functions' roles (kms:Decrypt, kms:GenerateDataKey through S3 and SQS), logs.<region>.amazonaws.com (for the two log groups, by kms:EncryptionContext:aws:logs:arn) and cloudwatch.amazonaws.com (the alarms): the output kms_key_policy_json is that policy, to merge into the key's. Null (the default): SSE-S3 (AES256) for the bucket, SSE-SQS for the queues, no cost per request."
  type        = string
  default     = null
}

# Bucket lifecycle

variable "noncurrent_version_expiration_days" {
  description = "Days a replaced or deleted object's old version is kept (versioning protects against overwrites and deletes; this bounds what it costs)."
  type        = number
  default     = 30

  validation {
    condition     = var.noncurrent_version_expiration_days >= 1
    error_message = "noncurrent_version_expiration_days: at least 1."
  }
}

variable "output_expiration_days" {
  description = "Days after which processed/ and augmented-images/ objects expire; 0 keeps them forever. Outputs can always be remade from original-uploads/."
  type        = number
  default     = 0

  validation {
    condition     = var.output_expiration_days >= 0
    error_message = "output_expiration_days: 0 (never) or more."
  }
}

variable "abort_incomplete_multipart_upload_days" {
  description = "Days after which an unfinished multipart upload (an app closed mid-upload) is aborted and its parts deleted."
  type        = number
  default     = 1

  validation {
    condition     = var.abort_incomplete_multipart_upload_days >= 1
    error_message = "abort_incomplete_multipart_upload_days: at least 1."
  }
}

# Lambdas. Measured (release build under the Runtime API emulator): the processor
# peaks at 14 MiB RSS for a 1 MB JPEG (70 ms) and 26.5 MiB for a 6.4 MB JPEG
# (455 ms, one core); the worker at 11 MiB, about 104 ms for 4 messages.

variable "processor_memory_mb" {
  description = "Memory of the image processor, MB. 128, Lambda's minimum: every upload the pipeline accepts decodes within a budget computed from its headers (MAX_DECODE_ALLOC_BYTES, MAX_PNG_DECODE_BYTES), and the shipped bootstrap peaked at 21.8 MiB on the bench corpus and at 36.9 MiB on the worst accepted inputs (the biggest lossless JPEG; 25.5 MiB for 64 MP progressive CMYK/YCCK and 64 MP baseline JPEGs, 16.1 MiB for a 16-bit Adam7 PNG at the pixel limit), measured per invocation by xtask/bench/lambda_invocations.py. At 128 MB (0.072 vCPU) the slowest accepted upload is estimated at 7.5 s (a 16384x3906 16-bit PNG), a 6000x4000 photo at 3.1 s; GB-seconds are about the same at any size, since CPU share grows with memory."
  type        = number
  default     = 128

  validation {
    condition     = var.processor_memory_mb >= 128 && var.processor_memory_mb <= 10240
    error_message = "processor_memory_mb: 128-10240 (128 MB is Lambda's minimum; the worst accepted upload peaked at 36.9 MiB)."
  }
}

variable "processor_timeout_secs" {
  description = "Timeout of the image processor, seconds. At 128 MB the slowest accepted upload is estimated at 7.5 s (its CPU time scaled to 0.072 vCPU); 30 s leaves four times that, and room for the SDK's retries with backoff on a slow S3 or SQS."
  type        = number
  default     = 30

  validation {
    condition     = var.processor_timeout_secs >= 5 && var.processor_timeout_secs <= 900
    error_message = "processor_timeout_secs: 5-900."
  }
}

variable "worker_memory_mb" {
  description = "Memory of the rotation worker, MB. 128, Lambda's minimum: it turns the processed 256x256 JPEG in the DCT domain (no decode, no encode) and peaked at 10.5 MiB per batch of 4 measured (xtask/bench/lambda_invocations.py), about 0.2 s estimated at 128 MB."
  type        = number
  default     = 128

  validation {
    condition     = var.worker_memory_mb >= 128 && var.worker_memory_mb <= 10240
    error_message = "worker_memory_mb: 128-10240."
  }
}

variable "worker_timeout_secs" {
  description = "Timeout of the rotation worker, seconds; the queue's visibility timeout is six times this (AWS's rule for SQS event sources). A batch of 5 took about 130 ms measured; 30 s covers S3 retries."
  type        = number
  default     = 30

  validation {
    # 6 x 30 s = 180 s; SQS allows up to 12 hours of visibility.
    condition     = var.worker_timeout_secs >= 5 && var.worker_timeout_secs <= 900
    error_message = "worker_timeout_secs: 5-900."
  }
}

variable "worker_batch_size" {
  description = "SQS messages per worker invocation."
  type        = number
  default     = 5

  validation {
    condition     = var.worker_batch_size >= 1 && var.worker_batch_size <= 10
    error_message = "worker_batch_size: 1-10 (an SQS event source without a batching window takes at most 10)."
  }
}

variable "worker_max_concurrency" {
  description = "Most concurrent worker invocations the SQS event source starts (2-1000); bounds S3 request rates and the share of the account's concurrency."
  type        = number
  default     = 10

  validation {
    condition     = var.worker_max_concurrency >= 2 && var.worker_max_concurrency <= 1000
    error_message = "worker_max_concurrency: 2-1000 (the limits of SQS event sources)."
  }
}

variable "processor_reserved_concurrency" {
  description = "Concurrent executions reserved for the image processor, which are also its ceiling: one uploader can't take the account's whole concurrency, and other functions can't starve the pipeline. S3 events over it are throttled and retried by Lambda for up to 6 hours, not lost. -1: no reservation (needed on accounts whose concurrency quota is 10, the quota of new accounts: AWS keeps 10 unreserved)."
  type        = number
  default     = 10

  validation {
    condition     = var.processor_reserved_concurrency == -1 || (var.processor_reserved_concurrency >= 1 && var.processor_reserved_concurrency <= 1000)
    error_message = "processor_reserved_concurrency: -1 (no reservation) or 1-1000 (0 would stop the processor: every S3 event throttled)."
  }
}

variable "processor_retry_attempts" {
  description = "Retries of a failed asynchronous processor invocation (an S3 event) before it goes to the on-failure queue."
  type        = number
  default     = 2

  validation {
    condition     = var.processor_retry_attempts >= 0 && var.processor_retry_attempts <= 2
    error_message = "processor_retry_attempts: 0-2 (Lambda's limit)."
  }
}

variable "log_level" {
  description = "RUST_LOG of both functions (error, warn, info, debug, or a tracing filter)."
  type        = string
  default     = "info"
}

variable "log_retention_days" {
  description = "Days CloudWatch keeps the functions' logs."
  type        = number
  default     = 14

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days: one of the values CloudWatch Logs accepts (1, 3, 5, 7, 14, 30, 60, 90, ...)."
  }
}

# Queues

variable "max_receive_count" {
  description = "Deliveries of a rotation task before it moves to the dead-letter queue."
  type        = number
  default     = 5

  validation {
    condition     = var.max_receive_count >= 1 && var.max_receive_count <= 1000
    error_message = "max_receive_count: 1-1000."
  }
}

# Alarms

variable "alarm_email" {
  description = "Email address subscribed to the alarm topic (AWS sends a confirmation mail first). Empty: the topic exists without subscribers; subscribe later."
  type        = string
  default     = ""
}

variable "oldest_message_alarm_secs" {
  description = "Alarm when the oldest rotation task has waited this long, seconds (the worker is stuck or throttled)."
  type        = number
  default     = 900
}

# Teardown

variable "force_destroy" {
  description = "Let `terraform destroy` delete the bucket's objects (every version and delete marker) and the ECR images with them. False keeps a stack with data from being destroyed by accident; `cargo xtask destroy` sets it after you confirm."
  type        = bool
  default     = false
}

# Monitoring

variable "s3_request_metrics" {
  description = "S3 request metrics (requests and errors per minute) on the whole bucket, for the dashboard. CloudWatch bills them as custom metrics (about 16 metrics)."
  type        = bool
  default     = true
}

variable "bucket_size_alarm_gib" {
  description = "Alarm when the bucket holds more than this many GiB in S3 Standard (S3's daily metric). null: no alarm."
  type        = number
  default     = 100
  validation {
    condition     = var.bucket_size_alarm_gib == null ? true : var.bucket_size_alarm_gib > 0
    error_message = "bucket_size_alarm_gib: more than 0, or null."
  }
}

variable "monthly_budget_usd" {
  description = "An AWS Budgets alert to the alarm topic when this stack's cost this month (by its Project tag, once that tag is activated for cost allocation) is, or is forecast to be, over this many USD. null: no budget."
  type        = number
  default     = 20
  validation {
    condition     = var.monthly_budget_usd == null ? true : var.monthly_budget_usd > 0
    error_message = "monthly_budget_usd: more than 0, or null."
  }
}

# Replication

variable "replication_region" {
  description = "Copy every output (processed/ and augmented-images/) to a bucket in this region as it is written (S3 Cross-Region Replication), for a dataset that must outlive a region's outage. null (the default): no replica. Uploads and records are not copied: the uploads are the user's own files and the rest is remade from them."
  type        = string
  default     = null
  validation {
    condition     = var.replication_region == null ? true : can(regex("^[a-z]{2}(-gov)?-[a-z]+-[0-9]$", var.replication_region))
    error_message = "replication_region: an AWS region name such as eu-west-1, or null."
  }
}
