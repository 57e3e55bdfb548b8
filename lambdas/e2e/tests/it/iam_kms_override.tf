# Test only (iam.rs copies it beside the stack for its plan with kms_key_arn): the
# resources that would start using the key stay as they are, so the policies read
# after them (the roles', the key policy) are known in the plan instead of "known
# after apply". (Applied, moto never reports the queues' data key reuse period, and
# the provider waits for it.)

resource "aws_sqs_queue" "rotations" {
  lifecycle {
    ignore_changes = [redrive_policy, sqs_managed_sse_enabled, kms_master_key_id, kms_data_key_reuse_period_seconds]
  }
}

resource "aws_sqs_queue" "failures" {
  lifecycle {
    ignore_changes = [sqs_managed_sse_enabled, kms_master_key_id, kms_data_key_reuse_period_seconds]
  }
}

resource "aws_cloudwatch_log_group" "functions" {
  lifecycle {
    ignore_changes = [kms_key_id]
  }
}
