provider "aws" {
  region = var.region

  # `var.tags` (plus the project's own) on every resource that takes tags.
  default_tags {
    tags = local.tags
  }
}

# The replica's region (replication.tf); the stack's own region while
# replication is off, so the provider is always valid and never used.
provider "aws" {
  alias  = "replica"
  region = coalesce(var.replication_region, var.region)

  default_tags {
    tags = local.tags
  }
}

data "aws_caller_identity" "current" {}

data "aws_partition" "current" {}

locals {
  # Every name starts with project + environment, so two stacks in one account
  # never collide and IAM conditions can match them by prefix.
  name       = "${var.project}-${var.environment}"
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition

  tags = merge(
    {
      Project     = var.project
      Environment = var.environment
      ManagedBy   = "terraform"
    },
    var.tags,
  )

  functions = {
    processor = "image-processor"
    worker    = "rotation-worker"
  }
  function_names = { for key, function in local.functions : key => "${local.name}-${function}" }
}
