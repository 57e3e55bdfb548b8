# Emulator only: merged over the real configuration (Terraform's override files)
# when the test copies both into one folder. The real files stay free of
# endpoints and test credentials.

provider "aws" {
  access_key = "ANOTREAL"
  secret_key = "notreal"

  skip_credentials_validation = true
  skip_metadata_api_check     = true
  skip_region_validation      = true
  # Bucket names without wildcard DNS on the emulator's host.
  s3_use_path_style = true

  endpoints {
    budgets    = var.emulator_endpoint
    cloudwatch = var.emulator_endpoint
    ecr        = var.emulator_endpoint
    iam        = var.emulator_endpoint
    lambda     = var.emulator_endpoint
    logs       = var.emulator_endpoint
    s3         = var.emulator_endpoint
    sns        = var.emulator_endpoint
    sqs        = var.emulator_endpoint
    sts        = var.emulator_endpoint
  }
}

# The replica's provider (replication.tf) on the same emulator: it manages
# only S3 (and asks STS who it is).
provider "aws" {
  alias = "replica"

  endpoints {
    s3  = var.emulator_endpoint
    sts = var.emulator_endpoint
  }
  s3_use_path_style           = true
  skip_region_validation      = true
  skip_metadata_api_check     = true
  skip_credentials_validation = true
  access_key                  = "ANOTREAL"
  secret_key                  = "notreal"
}

# Known moto differences, ignored here and only here: moto re-serialises the
# redrive policy with other whitespace, and reports an empty image_config the
# provider did not send. Either would make the second plan show changes that AWS
# would not.
resource "aws_sqs_queue" "rotations" {
  lifecycle {
    ignore_changes = [redrive_policy]
  }
}

resource "aws_lambda_function" "functions" {
  lifecycle {
    ignore_changes = [image_config]
  }
}

# Not a drift but a moto limitation: moto evaluates bucket policies without their
# conditions ("Conditions are not taken into account", moto's S3 docs), so the
# real statement (deny s3:* when aws:SecureTransport is false) denies every
# request, over TLS or not. Here the same statement covers one action nothing
# uses, so the policy is still created, read back, re-planned and destroyed.
resource "aws_s3_bucket_policy" "images" {
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "DenyInsecureTransport"
      Effect    = "Deny"
      Principal = "*"
      Action    = "s3:PutBucketWebsite"
      Resource  = aws_s3_bucket.images.arn
      Condition = { Bool = { "aws:SecureTransport" = "false" } }
    }]
  })
}

# moto delivers messages to a mapped function itself, by running the function's
# image in Docker, which the test machine does not have (SendMessageBatch then
# fails with a 500). The test plays the mapping's part with the real worker
# bootstrap instead; the mapping is still created, re-planned and destroyed.
resource "aws_lambda_event_source_mapping" "worker" {
  enabled = false
}

# moto's Budgets answers CreateBudget but not DescribeSubscribersForNotification,
# which the provider reads after every create: the budget is planned and checked
# by checkov, never applied here.
variable "monthly_budget_usd" {
  default = null
}
