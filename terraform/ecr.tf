# One image repository per function. `cargo xtask deploy` creates these first
# (the functions need an image to exist), then pushes, then applies the rest.

resource "aws_ecr_repository" "functions" {
  #checkov:skip=CKV_AWS_136:ECR encrypts every image at rest with AES256; a KMS key would add cost and a key policy for public, rebuildable code.
  for_each = local.functions

  name = "${local.name}/${each.value}"
  # A tag names one build forever: what runs is what the tag says.
  image_tag_mutability = "IMMUTABLE"
  # Deleting a repository with images is `cargo xtask destroy`'s decision.
  force_delete = var.force_destroy

  image_scanning_configuration {
    scan_on_push = true
  }
}

resource "aws_ecr_lifecycle_policy" "functions" {
  for_each = aws_ecr_repository.functions

  repository = each.value.name
  policy = jsonencode({
    rules = [{
      rulePriority = 1
      description  = "Keep the last ${var.ecr_keep_images} images"
      selection = {
        tagStatus   = "any"
        countType   = "imageCountMoreThan"
        countNumber = var.ecr_keep_images
      }
      action = { type = "expire" }
    }]
  })
}

# Lambda pulls the image with its service principal; granting it here (for this
# stack's functions only) keeps Lambda from editing the policy itself, which
# Terraform would then see as drift.
data "aws_iam_policy_document" "ecr_lambda_pull" {
  statement {
    sid     = "LambdaPull"
    actions = ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]

    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }

    condition {
      test     = "StringLike"
      variable = "aws:sourceArn"
      values   = ["arn:${local.partition}:lambda:${var.region}:${local.account_id}:function:${local.name}-*"]
    }
  }
}

resource "aws_ecr_repository_policy" "functions" {
  for_each = aws_ecr_repository.functions

  repository = each.value.name
  policy     = data.aws_iam_policy_document.ecr_lambda_pull.json
}
