//! Repository rules for terraform/ that need no Terraform: the stack names the
//! bucket contract's prefixes exactly as the pipeline does (the trigger, the IAM
//! scopes and the lifecycle rules all use them), and the worker's timeout and the
//! queue's visibility keep AWS's 6x rule. Fast, so a drift shows up in every test run.

use std::path::Path;

use augment_pipeline::contract::{
    AUGMENTED_PREFIX, FAILED_PREFIX, PROCESSED_PREFIX, UPLOAD_PREFIX,
};
use lambda_e2e::workspace_root;

fn read(file: &str) -> String {
    let path = workspace_root().join("terraform").join(file);
    std::fs::read_to_string(&path).unwrap_or_else(|err| panic!("{}: {err}", path.display()))
}

/// The value of `name = "..."` in a `locals` block, spaces aligned as `terraform fmt`
/// leaves them.
fn local_string(text: &str, name: &str) -> Option<String> {
    text.lines().find_map(|line| {
        let (key, value) = line.trim().split_once('=')?;
        (key.trim() == name).then(|| value.trim().trim_matches('"').to_owned())
    })
}

#[test]
fn the_stack_uses_the_bucket_contracts_prefixes() {
    let s3 = read("s3.tf");
    for (local, prefix) in [
        ("upload_prefix", UPLOAD_PREFIX),
        ("processed_prefix", PROCESSED_PREFIX),
        ("augmented_prefix", AUGMENTED_PREFIX),
        ("failed_prefix", FAILED_PREFIX),
    ] {
        assert_eq!(
            local_string(&s3, local).as_deref(),
            Some(prefix),
            "terraform/s3.tf local.{local} must be the contract's {prefix:?} \
             (lambdas/pipeline/src/contract.rs)"
        );
    }
    // The roles scope by the locals, never by a prefix spelled out.
    let iam = read("iam.tf");
    for prefix in [
        UPLOAD_PREFIX,
        PROCESSED_PREFIX,
        AUGMENTED_PREFIX,
        FAILED_PREFIX,
    ] {
        assert!(
            !iam.contains(prefix),
            "terraform/iam.tf spells out {prefix:?}; use the locals in s3.tf"
        );
    }
}

#[test]
fn the_queue_visibility_is_six_times_the_worker_timeout() {
    let sqs = read("sqs.tf");
    assert_eq!(
        local_string(&sqs, "visibility_timeout_secs").as_deref(),
        Some("6 * var.worker_timeout_secs")
    );
    assert!(sqs.contains("visibility_timeout_seconds = local.visibility_timeout_secs"));
}

#[test]
fn emulator_files_stay_apart_from_the_real_configuration() {
    let root = workspace_root().join("terraform");
    for entry in std::fs::read_dir(&root).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            continue;
        }
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        assert!(
            !name.ends_with("_override.tf") && !name.contains("emulator"),
            "{name}: emulator-only configuration belongs in terraform/emulator/"
        );
        if path.extension().is_some_and(|ext| ext == "tf") {
            let text = std::fs::read_to_string(&path).unwrap();
            assert!(
                !text.contains("endpoints") && !text.contains("access_key"),
                "{name}: endpoints and credentials belong in terraform/emulator/ only"
            );
        }
    }
    assert!(Path::new(&root.join("emulator/emulator_override.tf")).is_file());
}
