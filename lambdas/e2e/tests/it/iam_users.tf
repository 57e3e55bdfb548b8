# Test only (lambdas/e2e/tests/it/iam.rs copies it beside the stack): one IAM user
# per principal whose access the test proves, each holding exactly the policy the
# stack renders for it, and an access key. moto cannot run Lambda under a role, so
# the bootstraps run with these users' keys instead.

locals {
  # moto names the action of a batch call after the call (sqs:SendMessageBatch);
  # AWS authorises it as the single call's action (sqs:SendMessage). The users get
  # the batch names beside the single ones, and nothing else; iam.rs checks that.
  moto_batch_actions = {
    "sqs:SendMessage"             = "sqs:SendMessageBatch"
    "sqs:DeleteMessage"           = "sqs:DeleteMessageBatch"
    "sqs:ChangeMessageVisibility" = "sqs:ChangeMessageVisibilityBatch"
  }
  iam_test_documents = { for key, policy in local.iam_test_policies : key => jsondecode(policy) }
  iam_test_moto_policies = {
    for key, doc in local.iam_test_documents : key => jsonencode(merge(doc, {
      Statement = [for statement in doc.Statement : merge(statement, {
        Action = concat(flatten([statement.Action]), [
          for action in flatten([statement.Action]) : local.moto_batch_actions[action]
          if contains(keys(local.moto_batch_actions), action)
        ])
      })]
    }))
  }

  iam_test_policies = {
    processor  = aws_iam_role_policy.functions["processor"].policy
    worker     = aws_iam_role_policy.functions["worker"].policy
    app_user   = data.aws_iam_policy_document.app["user"].json
    app_viewer = data.aws_iam_policy_document.app["viewer"].json
    operator   = data.aws_iam_policy_document.operator.json
  }
}

resource "aws_iam_user" "iam_test" {
  for_each = local.iam_test_policies

  name = "${local.name}-iam-test-${replace(each.key, "_", "-")}"
}

resource "aws_iam_user_policy" "iam_test" {
  for_each = local.iam_test_policies

  name   = "rendered"
  user   = aws_iam_user.iam_test[each.key].name
  policy = local.iam_test_moto_policies[each.key]
}

resource "aws_iam_access_key" "iam_test" {
  for_each = local.iam_test_policies

  user = aws_iam_user.iam_test[each.key].name
}
