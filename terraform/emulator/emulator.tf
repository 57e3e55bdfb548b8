# Emulator only (moto): copied beside the real configuration by the Terraform
# end-to-end test (lambdas/e2e/tests/terraform_stack.rs), never used against AWS.

variable "emulator_endpoint" {
  description = "URL of the S3/SQS/Lambda/... emulator every AWS service is sent to (e.g. a moto server)."
  type        = string
}
