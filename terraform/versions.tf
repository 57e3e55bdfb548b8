terraform {
  # 1.5: `check` blocks and the current validation rules; CI runs 1.11.
  required_version = ">= 1.5.0"

  required_providers {
    aws = {
      source = "hashicorp/aws"
      # Pinned to the version CI validates and applies (mirrored in /opt/tf-plugins).
      version = "5.100.0"
    }
  }
}
