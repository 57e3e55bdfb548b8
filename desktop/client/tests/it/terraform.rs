//! "Import Terraform outputs" on what `terraform output -json` really prints
//! (Terraform run on a one-output config, no provider needed), and the stack in
//! terraform/ still declaring the output the app reads.

use std::path::Path;
use std::process::Command;

use augment_client::{AwsSettings, ErrorKind};

/// The same output as terraform/outputs.tf, with literals for the resources.
const CONFIG: &str = r#"
variable "region" {
  type    = string
  default = "eu-central-1"
}

output "desktop_config" {
  description = "What the desktop app imports."
  value = {
    bucket = "augment-abc123"
    region = var.region
  }
}

output "queue_url" {
  value = "https://sqs.eu-central-1.amazonaws.com/123456789012/augment"
}
"#;

fn terraform(dir: &Path, args: &[&str]) -> String {
    let output = Command::new("terraform")
        .args(args)
        .current_dir(dir)
        .env("TF_IN_AUTOMATION", "1")
        .output()
        .expect("terraform runs (Terraform 1.11 is on the test machine; see DESIGN.md)");
    assert!(
        output.status.success(),
        "terraform {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

#[test]
fn terraform_output_json_imports_bucket_and_region() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("main.tf"), CONFIG).unwrap();
    terraform(
        dir.path(),
        &["apply", "-auto-approve", "-input=false", "-no-color"],
    );
    let json = terraform(dir.path(), &["output", "-json"]);

    let aws = AwsSettings::from_terraform_outputs(&json).unwrap();
    assert_eq!(aws.bucket, "augment-abc123");
    assert_eq!(aws.region.as_deref(), Some("eu-central-1"));
    assert_eq!(aws.profile, None);
    assert_eq!(aws.endpoint_url, None);

    // What a person may paste by mistake: the plain (non-JSON) listing.
    let plain = terraform(dir.path(), &["output", "-no-color"]);
    let err = AwsSettings::from_terraform_outputs(&plain).unwrap_err();
    // It says which command prints what it reads.
    assert!(
        err.kind == ErrorKind::InvalidSettings && err.message.contains("terraform output -json"),
        "{err:?}"
    );
}

#[test]
fn the_stack_still_declares_the_output_the_app_reads() {
    let outputs = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../terraform/outputs.tf"),
    )
    .unwrap();
    let start = outputs
        .find("output \"desktop_config\"")
        .expect("terraform/outputs.tf declares desktop_config");
    let block = &outputs[start..];
    let block = &block[..block.find("\n}").unwrap()];
    for field in ["bucket", "region"] {
        assert!(
            block
                .lines()
                .any(|line| line.trim_start().starts_with(&format!("{field} "))),
            "desktop_config has no {field}:\n{block}"
        );
    }
}
