output "bucket_name" {
  description = "The bucket: upload to original-uploads/, outputs appear under processed/ and augmented-images/, rejections under failed/."
  value       = aws_s3_bucket.images.id
}

output "region" {
  description = "The stack's AWS region."
  value       = var.region
}

output "queue_url" {
  description = "The rotation queue (four tasks per upload)."
  value       = aws_sqs_queue.rotations.url
}

output "dlq_url" {
  description = "The rotation queue's dead-letter queue: tasks that failed maxReceiveCount times."
  value       = aws_sqs_queue.failures["rotations-dlq"].url
}

output "processor_failures_url" {
  description = "The processor's on-failure destination: S3 events that failed after Lambda's retries."
  value       = aws_sqs_queue.failures["processor-failures"].url
}

output "processor_function_name" {
  description = "The image processor Lambda."
  value       = aws_lambda_function.functions["processor"].function_name
}

output "worker_function_name" {
  description = "The rotation worker Lambda."
  value       = aws_lambda_function.functions["worker"].function_name
}

output "ecr_repository_urls" {
  description = "Image repositories by function (image-processor, rotation-worker); push <url>:<tag>."
  value       = { for key, function in local.functions : function => aws_ecr_repository.functions[key].repository_url }
}

output "alarm_topic_arn" {
  description = "SNS topic every alarm notifies; subscribe to it (or set alarm_email)."
  value       = aws_sns_topic.alarms.arn
}

output "desktop_config" {
  description = "What the desktop app's \"Import Terraform outputs\" and the CLI read (terraform output -json): the bucket and its region, and what status, logs and redrive operate: the queues, the functions and their log groups."
  value = {
    bucket                  = aws_s3_bucket.images.id
    region                  = var.region
    queue_url               = aws_sqs_queue.rotations.url
    dlq_url                 = aws_sqs_queue.failures["rotations-dlq"].url
    processor_failures_url  = aws_sqs_queue.failures["processor-failures"].url
    processor_function_name = aws_lambda_function.functions["processor"].function_name
    worker_function_name    = aws_lambda_function.functions["worker"].function_name
    log_groups              = [for group in aws_cloudwatch_log_group.functions : group.name]
    dashboard_name          = aws_cloudwatch_dashboard.pipeline.dashboard_name
  }
}

output "operator_policy_json" {
  description = "IAM policy (JSON) for the people who run the stack: what augment status, logs and redrive need (list the bucket, read outputs and records, the queues' counts, move dead letters back, invoke the processor, read both functions' logs); never the originals' bytes."
  value       = data.aws_iam_policy_document.operator.json
}

output "dashboard_url" {
  description = "The CloudWatch dashboard: function duration and errors, queue depth, dead letters, S3 requests, the bucket's size."
  value       = "https://${var.region}.console.aws.amazon.com/cloudwatch/home?region=${var.region}#dashboards:name=${aws_cloudwatch_dashboard.pipeline.dashboard_name}"
}

output "app_user_policy_json" {
  description = "IAM policy (JSON) for people who use the desktop app or the CLI: list the contract's prefixes, upload to original-uploads/, read processed/, augmented-images/ and failed/, delete what Delete… deletes; nothing else. Attach it to their user, group or role (README: \"Access for the app's users\")."
  value       = data.aws_iam_policy_document.app["user"].json
}

output "app_viewer_policy_json" {
  description = "IAM policy (JSON) for people who only browse and download: list and read processed/, augmented-images/ and failed/."
  value       = data.aws_iam_policy_document.app["viewer"].json
}

output "kms_key_policy_json" {
  description = "With kms_key_arn set: the key policy (JSON) the stack needs on that key (the account's IAM policies, the functions' roles through S3 and SQS, the log groups, the alarms); null without a key."
  value       = one(data.aws_iam_policy_document.kms_key[*].json)
}
