# The two functions: container images from ECR, triggered by S3 (processor) and
# by the rotation queue (worker).

resource "aws_cloudwatch_log_group" "functions" {
  #checkov:skip=CKV_AWS_158:CloudWatch Logs encrypts log data at rest already; the logs hold object keys and outcomes, no image data or secrets.
  #checkov:skip=CKV_AWS_338:Logs are for debugging recent uploads; a year of retention is cost without use. var.log_retention_days raises it.
  for_each = local.function_names

  # The name Lambda writes to, made here so its retention and deletion are ours.
  name              = "/aws/lambda/${each.value}"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn
}

locals {
  # What differs between the two functions; the rest of their configuration is one.
  function_settings = {
    processor = {
      description  = "S3 upload -> processed/ 256x256 JPEG + four rotation tasks (or failed/<name>.json)."
      memory_mb    = var.processor_memory_mb
      timeout_secs = var.processor_timeout_secs
      environment  = { QUEUE_URL = aws_sqs_queue.rotations.url }
    }
    worker = {
      description  = "SQS rotation tasks -> augmented-images/<angle>-degree/ JPEGs; reports partial batch failures."
      memory_mb    = var.worker_memory_mb
      timeout_secs = var.worker_timeout_secs
      # The worker refuses tasks that name any other bucket.
      environment = { BUCKET = aws_s3_bucket.images.id }
    }
  }
}

resource "aws_lambda_function" "functions" {
  #checkov:skip=CKV_AWS_117:No VPC: the functions reach only AWS APIs (S3, SQS) over TLS; a VPC would add NAT or endpoint costs and cold-start latency.
  #checkov:skip=CKV_AWS_116:No function DLQ. The processor is invoked asynchronously by S3: failed events go to the on-failure destination (aws_lambda_function_event_invoke_config), which keeps the error with the event; a function DLQ would keep less. The worker is invoked synchronously by the SQS event source mapping, which never uses one: the queue's redrive policy moves failing tasks to the dead-letter queue.
  #checkov:skip=CKV_AWS_173:The environment holds a queue URL or a bucket name and a log level, no secrets; Lambda encrypts it at rest with its own key.
  #checkov:skip=CKV_AWS_272:Code signing applies to .zip packages; images are pinned by immutable ECR tags and scanned on push.
  #checkov:skip=CKV_AWS_115:The processor reserves var.processor_reserved_concurrency (10 by default; -1 on accounts whose quota is 10, where AWS keeps 10 unreserved). The worker reserves none: the event source mapping's maximum concurrency (var.worker_max_concurrency) bounds it and throttles without failing messages, and a reservation would take from the account's pool.
  for_each = local.function_settings

  function_name = local.function_names[each.key]
  description   = each.value.description
  role          = aws_iam_role.functions[each.key].arn
  package_type  = "Image"
  image_uri     = "${aws_ecr_repository.functions[each.key].repository_url}:${var.image_tag}"
  architectures = ["x86_64"]
  memory_size   = each.value.memory_mb
  timeout       = each.value.timeout_secs
  # The processor's share of the account's concurrency, reserved and capped, so one
  # busy uploader can neither take the whole pool nor be starved by other functions;
  # S3 events over the cap are throttled, and Lambda retries those for up to six
  # hours (maximum_event_age_in_seconds), so none is lost. -1: no reservation.
  reserved_concurrent_executions = each.key == "processor" ? var.processor_reserved_concurrency : -1

  environment {
    variables = merge(each.value.environment, { RUST_LOG = var.log_level })
  }

  tracing_config {
    mode = "Active"
  }

  depends_on = [
    aws_cloudwatch_log_group.functions,
    aws_iam_role_policy.functions,
    aws_ecr_repository_policy.functions,
  ]
}

resource "aws_lambda_permission" "processor_from_s3" {
  statement_id   = "AllowS3Invoke"
  action         = "lambda:InvokeFunction"
  function_name  = aws_lambda_function.functions["processor"].function_name
  principal      = "s3.amazonaws.com"
  source_arn     = aws_s3_bucket.images.arn
  source_account = local.account_id
}

resource "aws_lambda_function_event_invoke_config" "processor" {
  function_name          = aws_lambda_function.functions["processor"].function_name
  maximum_retry_attempts = var.processor_retry_attempts
  # Lambda's maximum: an event throttled for hours is still processed.
  maximum_event_age_in_seconds = 6 * 60 * 60

  destination_config {
    on_failure {
      destination = aws_sqs_queue.failures["processor-failures"].arn
    }
  }

  depends_on = [aws_iam_role_policy.functions]
}

resource "aws_lambda_event_source_mapping" "worker" {
  event_source_arn = aws_sqs_queue.rotations.arn
  function_name    = aws_lambda_function.functions["worker"].arn
  batch_size       = var.worker_batch_size
  # The worker returns the ids of the messages that failed; only those come back.
  function_response_types = ["ReportBatchItemFailures"]

  scaling_config {
    maximum_concurrency = var.worker_max_concurrency
  }

  depends_on = [aws_iam_role_policy.functions]
}
