//! The Terraform stack (terraform/) applied to a moto server, with the emulator-only
//! provider and override file (terraform/emulator/) copied beside it in a temporary
//! folder; then a second plan must say "No changes" (`-detailed-exitcode` 0); then
//! the pipeline runs end to end on what Terraform made: uploads with the AWS SDK,
//! the real processor bootstrap given each S3 event as S3 would send it, the real
//! worker given the queue's messages as the event source mapping would (both under
//! the Lambda Runtime API of cargo-lambda, configured from the applied functions'
//! environment); every output, every `failed/` record and empty queues are checked;
//! then the stack is destroyed the way `cargo xtask destroy` does it.
//!
//! Needs `terraform` on PATH and the hashicorp/aws provider mirrored at
//! `/opt/tf-plugins` (or `TF_PLUGIN_DIR`); it fails, never skips, without them.

#![expect(clippy::unwrap_used, reason = "test setup fails the test")]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Instant;

use augment_aws::testing::{self, Moto};
use augment_pipeline::sniff::ImageFormat;
use augment_pipeline::{Angle, FailedRecord, RejectCode, imaging, limits};
use aws_sdk_sqs::types::QueueAttributeName;
use lambda_e2e::{
    RuntimeApi, assert_red_corner_turned, log_lines, red_corner_photo, s3_record, workspace_root,
};
use serde_json::{Value, json};

use crate::operate::{run_worker, start_functions};

/// Where CI mirrors the provider (`terraform init -plugin-dir`).
const DEFAULT_PLUGIN_DIR: &str = "/opt/tf-plugins";
/// The provider version terraform/versions.tf pins.
const PROVIDER_DIR: &str = "registry.terraform.io/hashicorp/aws/5.100.0";
pub(crate) const PROJECT: &str = "image-augmentation";
/// Its own environment name, so nothing here looks like a real stack's names.
pub(crate) const ENVIRONMENT: &str = "e2e";
const IMAGE_TAG: &str = "e2e";
pub(crate) const REGION: &str = "us-east-1";
/// The defaults terraform/variables.tf documents, checked on the applied stack.
const WORKER_TIMEOUT_SECS: u64 = 30;
pub(crate) const MAX_RECEIVE_COUNT: usize = 5;
pub(crate) const BATCH_SIZE: usize = 5;
const MAX_CONCURRENCY: u64 = 10;
const RETENTION_SECS: &str = "1209600";
pub(crate) const PROCESSOR_BIN: &str = "image-processor";
pub(crate) const WORKER_BIN: &str = "rotation-worker";
/// An upload over the 10 MiB limit: rejected from its size alone.
const HUGE_BYTES: usize = 11 * 1024 * 1024;

/// The terraform CLI in a folder of its own, with no user configuration.
pub(crate) struct Terraform {
    pub(crate) dir: tempfile::TempDir,
    endpoint: String,
}

impl Terraform {
    /// Copies terraform/*.tf and terraform/emulator/*.tf into a new folder.
    pub(crate) fn prepare(endpoint: &str) -> Self {
        let dir = tempfile::Builder::new()
            .prefix("tf-stack-")
            .tempdir()
            .unwrap();
        let source = workspace_root().join("terraform");
        let mut copied = 0;
        for folder in [source.clone(), source.join("emulator")] {
            for entry in std::fs::read_dir(&folder).unwrap() {
                let path = entry.unwrap().path();
                if path.extension().is_some_and(|ext| ext == "tf") {
                    std::fs::copy(&path, dir.path().join(path.file_name().unwrap())).unwrap();
                    copied += 1;
                }
            }
        }
        assert!(copied > 2, "no .tf files in {}", source.display());
        // An empty CLI configuration: no user settings, no credentials helpers.
        std::fs::write(dir.path().join("cli.tfrc"), "").unwrap();
        Self {
            dir,
            endpoint: endpoint.to_owned(),
        }
    }

    pub(crate) fn run(&self, args: &[&str]) -> Output {
        Command::new("terraform")
            .args(args)
            .current_dir(self.dir.path())
            .env("TF_CLI_CONFIG_FILE", self.dir.path().join("cli.tfrc"))
            .env("TF_IN_AUTOMATION", "1")
            .env("TF_INPUT", "0")
            // No version check against checkpoint-api.hashicorp.com.
            .env("CHECKPOINT_DISABLE", "1")
            .env("TF_VAR_emulator_endpoint", &self.endpoint)
            .env("TF_VAR_project", PROJECT)
            .env("TF_VAR_environment", ENVIRONMENT)
            .env("TF_VAR_image_tag", IMAGE_TAG)
            .env("TF_VAR_region", REGION)
            .output()
            .unwrap()
    }

    /// Runs `terraform ARGS`; its stdout, or a failure with everything it said.
    pub(crate) fn ok(&self, args: &[&str]) -> String {
        let output = self.run(args);
        assert!(
            output.status.success(),
            "terraform {} failed ({}):\n{}{}",
            args.join(" "),
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout).unwrap()
    }
}

/// Terraform and the provider mirror, or a failure that says what to install.
pub(crate) fn plugin_dir() -> PathBuf {
    let version = Command::new("terraform").arg("version").output();
    assert!(
        version.as_ref().is_ok_and(|out| out.status.success()),
        "`terraform` is not on PATH ({:?}): install Terraform 1.5 or newer \
         (CI uses 1.11.4) from https://developer.hashicorp.com/terraform/install",
        version.err()
    );
    let dir = std::env::var_os("TF_PLUGIN_DIR")
        .map_or_else(|| PathBuf::from(DEFAULT_PLUGIN_DIR), PathBuf::from);
    assert!(
        dir.join(PROVIDER_DIR).is_dir(),
        "the hashicorp/aws 5.100.0 provider is not mirrored in {}: make the mirror with \
         `terraform providers mirror DIR` in terraform/ on a machine with internet, then \
         set TF_PLUGIN_DIR=DIR (the default is {DEFAULT_PLUGIN_DIR})",
        dir.display()
    );
    dir
}

/// `terraform show -json`: the values of one applied resource.
pub(crate) fn resource<'a>(state: &'a Value, address: &str) -> &'a Value {
    state["values"]["root_module"]["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["address"] == address)
        .map(|r| &r["values"])
        .unwrap_or_else(|| panic!("{address} is not in the state"))
}

fn rotations_arn(state: &Value) -> String {
    str_of(&resource(state, "aws_sqs_queue.rotations")["arn"])
}

/// Deletes every object version and delete marker, as S3's console "Empty" does.
async fn empty_versioned_bucket(s3: &aws_sdk_s3::Client, bucket: &str) {
    use aws_sdk_s3::types::{Delete, ObjectIdentifier};
    loop {
        let listed = s3
            .list_object_versions()
            .bucket(bucket)
            .send()
            .await
            .unwrap();
        let versions = listed
            .versions()
            .iter()
            .map(|v| (v.key(), v.version_id()))
            .chain(
                listed
                    .delete_markers()
                    .iter()
                    .map(|m| (m.key(), m.version_id())),
            );
        let objects: Vec<ObjectIdentifier> = versions
            .map(|(key, version)| {
                ObjectIdentifier::builder()
                    .key(key.unwrap())
                    .set_version_id(version.map(str::to_owned))
                    .build()
                    .unwrap()
            })
            .collect();
        if objects.is_empty() {
            return;
        }
        let deleted = s3
            .delete_objects()
            .bucket(bucket)
            .delete(
                Delete::builder()
                    .set_objects(Some(objects))
                    .build()
                    .unwrap(),
            )
            .send()
            .await
            .unwrap();
        assert!(deleted.errors().is_empty(), "{:?}", deleted.errors());
    }
}

fn png_photo() -> Vec<u8> {
    let jpeg = red_corner_photo();
    let image = image::load_from_memory(&jpeg).unwrap();
    let mut png = std::io::Cursor::new(Vec::new());
    image.write_to(&mut png, image::ImageFormat::Png).unwrap();
    png.into_inner()
}

pub(crate) fn str_of(value: &Value) -> String {
    value
        .as_str()
        .unwrap_or_else(|| panic!("not a string: {value}"))
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn terraform_stack_applies_replans_clean_runs_end_to_end_and_destroys() {
    let plugin_dir = plugin_dir();
    let moto = Moto::start().unwrap();
    let clients = moto.clients();
    let (s3, sqs) = (&clients.s3, &clients.sqs);
    let name = format!("{PROJECT}-{ENVIRONMENT}");

    // Apply, then plan again: nothing may change.
    let tf = Terraform::prepare(&moto.endpoint);
    let plugin_dir_arg = format!("-plugin-dir={}", plugin_dir.display());
    tf.ok(&["init", "-no-color", &plugin_dir_arg]);
    tf.ok(&["validate", "-no-color"]);
    let started = Instant::now();
    tf.ok(&["apply", "-auto-approve", "-no-color"]);
    let apply_secs = started.elapsed().as_secs_f64();
    let started = Instant::now();
    let plan = tf.run(&["plan", "-detailed-exitcode", "-no-color"]);
    let replan_secs = started.elapsed().as_secs_f64();
    assert_eq!(
        plan.status.code(),
        Some(0),
        "the second plan is not empty (exit 2: changes, 1: error):\n{}{}",
        String::from_utf8_lossy(&plan.stdout),
        String::from_utf8_lossy(&plan.stderr)
    );
    assert!(String::from_utf8_lossy(&plan.stdout).contains("No changes."));

    // Every output, and desktop_config as the desktop app reads it.
    let outputs: Value = serde_json::from_str(&tf.ok(&["output", "-json"])).unwrap();
    let output = |key: &str| outputs[key]["value"].clone();
    let bucket = str_of(&output("bucket_name"));
    assert!(bucket.starts_with(&format!("{name}-")), "{bucket}");
    assert_eq!(output("region"), json!(REGION));
    let desktop_config = output("desktop_config");
    assert_eq!(desktop_config["bucket"], json!(bucket));
    assert_eq!(desktop_config["region"], json!(REGION));
    let processor_name = format!("{name}-image-processor");
    let worker_name = format!("{name}-rotation-worker");
    assert_eq!(output("processor_function_name"), json!(processor_name));
    assert_eq!(output("worker_function_name"), json!(worker_name));
    let repositories = output("ecr_repository_urls");
    for function in ["image-processor", "rotation-worker"] {
        let url = str_of(&repositories[function]);
        assert!(url.ends_with(&format!("/{name}/{function}")), "{url}");
    }
    assert!(str_of(&output("alarm_topic_arn")).ends_with(&format!(":{name}-alarms")));
    let queue_url = str_of(&output("queue_url"));
    let dlq_url = str_of(&output("dlq_url"));
    let failures_url = str_of(&output("processor_failures_url"));
    // What the operator's tools read: the same queues, functions and log groups.
    assert_eq!(
        desktop_config,
        json!({
            "bucket": bucket,
            "region": REGION,
            "queue_url": queue_url,
            "dlq_url": dlq_url,
            "processor_failures_url": failures_url,
            "processor_function_name": processor_name,
            "worker_function_name": worker_name,
            "log_groups": [format!("/aws/lambda/{processor_name}"), format!("/aws/lambda/{worker_name}")],
            "dashboard_name": name,
        })
    );
    assert!(str_of(&output("dashboard_url")).ends_with(&format!("#dashboards:name={name}")));
    let mut names: Vec<&str> = outputs
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    names.sort_unstable();
    assert_eq!(
        names,
        [
            "alarm_topic_arn",
            "app_user_policy_json",
            "app_viewer_policy_json",
            "bucket_name",
            "dashboard_url",
            "desktop_config",
            "dlq_url",
            "ecr_repository_urls",
            "operator_policy_json",
            "processor_failures_url",
            "processor_function_name",
            "queue_url",
            "region",
            "worker_function_name",
        ]
    );

    // The applied functions and their trigger, as Lambda (moto) reports them.
    let state: Value = serde_json::from_str(&tf.ok(&["show", "-json"])).unwrap();
    // The dashboard shows the original design's key metrics, on this stack's names.
    let dashboard = resource(&state, "aws_cloudwatch_dashboard.pipeline");
    let body: Value = serde_json::from_str(&str_of(&dashboard["dashboard_body"])).unwrap();
    let metrics = body["widgets"].to_string();
    for needed in [
        "Duration",
        "Errors",
        "ApproximateNumberOfMessagesVisible",
        "AllRequests",
        "BucketSizeBytes",
    ] {
        assert!(
            metrics.contains(needed),
            "{needed} on the dashboard: {metrics}"
        );
    }
    for name in [&processor_name, &worker_name, &bucket] {
        assert!(metrics.contains(name.as_str()), "{name} on the dashboard");
    }
    assert!(resource(&state, "aws_s3_bucket_metric.requests[0]").is_object());
    let processor = resource(&state, r#"aws_lambda_function.functions["processor"]"#);
    let worker = resource(&state, r#"aws_lambda_function.functions["worker"]"#);
    for (function, memory_mb) in [(processor, 128), (worker, 128)] {
        assert_eq!(function["package_type"], "Image");
        assert!(str_of(&function["image_uri"]).ends_with(&format!(":{IMAGE_TAG}")));
        assert_eq!(function["memory_size"], memory_mb);
        assert_eq!(function["timeout"], WORKER_TIMEOUT_SECS);
        assert_eq!(function["tracing_config"][0]["mode"], "Active");
    }
    let processor_env = &processor["environment"][0]["variables"];
    let worker_env = &worker["environment"][0]["variables"];
    assert_eq!(processor_env["QUEUE_URL"], json!(queue_url));
    assert_eq!(worker_env["BUCKET"], json!(bucket));
    // The processor's reserved concurrency (the variable's default); none for the worker.
    assert_eq!(processor["reserved_concurrent_executions"], 10);
    assert_eq!(worker["reserved_concurrent_executions"], -1);
    let mapping = resource(&state, "aws_lambda_event_source_mapping.worker");
    assert_eq!(mapping["batch_size"], BATCH_SIZE);
    assert_eq!(mapping["event_source_arn"], json!(rotations_arn(&state)));
    assert_eq!(
        mapping["function_response_types"],
        json!(["ReportBatchItemFailures"])
    );
    assert_eq!(
        mapping["scaling_config"][0]["maximum_concurrency"],
        MAX_CONCURRENCY
    );
    let invoke_config = resource(&state, "aws_lambda_function_event_invoke_config.processor");
    let failures_arn =
        str_of(&resource(&state, r#"aws_sqs_queue.failures["processor-failures"]"#)["arn"]);
    assert_eq!(
        invoke_config["destination_config"][0]["on_failure"][0]["destination"],
        json!(failures_arn)
    );

    // The queues and the bucket, as SQS and S3 (moto) report them.
    let attributes = |url: String| {
        let sqs = sqs.clone();
        async move {
            sqs.get_queue_attributes()
                .queue_url(url)
                .attribute_names(QueueAttributeName::All)
                .send()
                .await
                .unwrap()
                .attributes()
                .unwrap()
                .clone()
        }
    };
    let rotations = attributes(queue_url.clone()).await;
    let dlq = attributes(dlq_url.clone()).await;
    assert_eq!(
        rotations[&QueueAttributeName::VisibilityTimeout],
        (6 * WORKER_TIMEOUT_SECS).to_string(),
        "visibility timeout must be 6x the worker's timeout"
    );
    assert_eq!(
        rotations[&QueueAttributeName::MessageRetentionPeriod],
        RETENTION_SECS
    );
    assert_eq!(
        dlq[&QueueAttributeName::MessageRetentionPeriod],
        RETENTION_SECS
    );
    let redrive: Value =
        serde_json::from_str(&rotations[&QueueAttributeName::RedrivePolicy]).unwrap();
    assert_eq!(
        redrive["deadLetterTargetArn"],
        json!(dlq[&QueueAttributeName::QueueArn])
    );
    assert_eq!(
        redrive["maxReceiveCount"].to_string(),
        MAX_RECEIVE_COUNT.to_string()
    );

    let notification = s3
        .get_bucket_notification_configuration()
        .bucket(&bucket)
        .send()
        .await
        .unwrap();
    let [trigger] = notification.lambda_function_configurations() else {
        panic!("expected one Lambda notification: {notification:?}");
    };
    assert!(
        trigger
            .lambda_function_arn()
            .ends_with(&format!(":{processor_name}"))
    );
    assert_eq!(
        trigger
            .events()
            .iter()
            .map(aws_sdk_s3::types::Event::as_str)
            .collect::<Vec<_>>(),
        ["s3:ObjectCreated:*"]
    );
    let rules = trigger.filter().unwrap().key().unwrap().filter_rules();
    let [rule] = rules else {
        panic!("expected a prefix filter only (so .JPG works too): {rules:?}");
    };
    assert_eq!(rule.name().unwrap().as_str().to_lowercase(), "prefix");
    let prefix = rule.value().unwrap().to_owned();
    assert_eq!(prefix, "original-uploads/");
    // moto answers GetBucketVersioning with a root element the Rust SDK refuses;
    // the provider reads it fine, so these come from the refreshed state.
    let versioning = resource(&state, "aws_s3_bucket_versioning.images");
    assert_eq!(
        versioning["versioning_configuration"][0]["status"],
        "Enabled"
    );
    let block = resource(&state, "aws_s3_bucket_public_access_block.images");
    for setting in [
        "block_public_acls",
        "block_public_policy",
        "ignore_public_acls",
        "restrict_public_buckets",
    ] {
        assert_eq!(block[setting], true, "{setting}");
    }
    let encryption = resource(
        &state,
        "aws_s3_bucket_server_side_encryption_configuration.images",
    );
    assert_eq!(
        encryption["rule"][0]["apply_server_side_encryption_by_default"][0]["sse_algorithm"],
        "AES256"
    );

    // Uploads: good ones (a JPEG named .JPG, a sub-folder and spaces, a PNG, a key
    // that needs URL-encoding), a text file named .jpg, one over the size limit.
    let good = [
        ("holiday 2024/beach day", "JPG", red_corner_photo()),
        ("a+b=c ☀", "jpeg", red_corner_photo()),
        ("cat", "png", png_photo()),
    ];
    let mut huge = red_corner_photo();
    huge.resize(HUGE_BYTES, 0);
    assert!(huge.len() as u64 > limits::MAX_UPLOAD_BYTES);
    let bad = [
        (
            "notes",
            "jpg",
            b"this is text, not a photo".to_vec(),
            RejectCode::UnsupportedType,
        ),
        ("huge", "jpg", huge, RejectCode::TooLarge),
    ];
    let uploads: Vec<(String, &Vec<u8>)> = good
        .iter()
        .map(|(name, ext, body)| (format!("{prefix}{name}.{ext}"), body))
        .chain(
            bad.iter()
                .map(|(name, ext, body, _)| (format!("{prefix}{name}.{ext}"), body)),
        )
        .collect();
    for (key, body) in &uploads {
        testing::put_object(&clients, &bucket, key, (*body).clone())
            .await
            .unwrap();
    }

    // The bootstraps, with the environment Terraform gave the functions. The
    // Runtime API routes by binary name (cargo-lambda only serves this project's
    // binaries), not by the deployed function name.
    let api = RuntimeApi::start();
    let logs = tempfile::Builder::new()
        .prefix("tf-stack-logs-")
        .tempdir()
        .unwrap();
    let [(_processor, processor_log), (_worker, worker_log)] =
        start_functions(&api, &moto, &state, logs.path());

    // S3 → processor: one record per event, as S3 sends them.
    let e2e_started = Instant::now();
    for ((key, body), expected) in uploads.iter().zip([
        json!({"processed": 1, "rejected": 0, "skipped": 0}),
        json!({"processed": 1, "rejected": 0, "skipped": 0}),
        json!({"processed": 1, "rejected": 0, "skipped": 0}),
        json!({"processed": 0, "rejected": 1, "skipped": 0}),
        json!({"processed": 0, "rejected": 1, "skipped": 0}),
    ]) {
        let event = json!({ "Records": [s3_record(&bucket, REGION, key, body.len())] });
        assert_eq!(api.invoke(PROCESSOR_BIN, &event), expected, "{key}");
    }

    // The queue → worker, in batches of the mapping's size; what succeeded is
    // deleted, as the event source mapping does.
    assert_eq!(
        run_worker(&api, sqs, &queue_url, &rotations_arn(&state)).await,
        4 * good.len()
    );
    let e2e_secs = e2e_started.elapsed().as_secs_f64();

    // Every output: processed and four rotations per good upload, 256×256, the
    // red corner where each counter-clockwise angle puts it.
    let read = |key: String| {
        let s3 = s3.clone();
        let bucket = bucket.clone();
        async move {
            let object = s3.get_object().bucket(bucket).key(&key).send().await;
            let object = object.unwrap_or_else(|err| panic!("cannot read {key}: {err:?}"));
            object.body.collect().await.unwrap().into_bytes().to_vec()
        }
    };
    let mut expected_keys: BTreeSet<String> = uploads.iter().map(|(key, _)| key.clone()).collect();
    for (name, _, _) in &good {
        let processed_key = format!("processed/{name}_256x256.jpg");
        let processed =
            imaging::decode(&read(processed_key.clone()).await, ImageFormat::Jpeg, 256).unwrap();
        assert_eq!(processed.dimensions(), (256, 256), "{processed_key}");
        expected_keys.insert(processed_key);
        for angle in Angle::ALL {
            let key = format!("augmented-images/{angle}-degree/{name}_{angle}.jpg");
            assert_red_corner_turned(&read(key.clone()).await, angle, &key);
            expected_keys.insert(key);
        }
    }
    // Every failed/ record: the upload it judged and why.
    for (name, ext, _, code) in &bad {
        let key = format!("failed/{name}.json");
        let record: FailedRecord = serde_json::from_slice(&read(key.clone()).await).unwrap();
        assert_eq!(record.code, *code, "{key}");
        assert_eq!(record.source_key, format!("{prefix}{name}.{ext}"));
        assert!(!record.message.is_empty());
        expected_keys.insert(key);
    }
    // And nothing else in the bucket.
    let mut keys = BTreeSet::new();
    let mut pages = s3.list_objects_v2().bucket(&bucket).into_paginator().send();
    while let Some(page) = pages.next().await {
        keys.extend(
            page.unwrap()
                .contents()
                .iter()
                .filter_map(|o| o.key().map(str::to_owned)),
        );
    }
    assert_eq!(keys, expected_keys);

    // Empty queues: the rotation queue (all deleted), its DLQ, the processor's
    // on-failure destination.
    for url in [&queue_url, &dlq_url, &failures_url] {
        let counts = attributes(url.clone()).await;
        for attribute in [
            QueueAttributeName::ApproximateNumberOfMessages,
            QueueAttributeName::ApproximateNumberOfMessagesNotVisible,
            QueueAttributeName::ApproximateNumberOfMessagesDelayed,
        ] {
            assert_eq!(counts[&attribute], "0", "{url}: {attribute:?}");
        }
    }

    // One log line per record, with the outcome.
    let outcomes = |log: &Path, outcome: &str| {
        log_lines(log)
            .iter()
            .filter(|l| l["outcome"] == outcome)
            .count()
    };
    assert_eq!(outcomes(&processor_log, "processed"), good.len());
    assert_eq!(outcomes(&processor_log, "rejected"), bad.len());
    assert_eq!(outcomes(&worker_log, "rotated"), 4 * good.len());
    assert_eq!(outcomes(&worker_log, "failed"), 0);

    // Destroy as `cargo xtask destroy` does: allow emptying the versioned bucket
    // and the repositories (force_destroy), then destroy. Against moto the
    // provider's own emptying never finishes for these keys (it keeps retrying the
    // bucket delete; keys with spaces, `+` and `=` are the likely cause), so every
    // version and delete marker is deleted here first, with the SDK.
    let started = Instant::now();
    empty_versioned_bucket(s3, &bucket).await;
    tf.ok(&[
        "apply",
        "-auto-approve",
        "-no-color",
        "-var",
        "force_destroy=true",
    ]);
    tf.ok(&[
        "destroy",
        "-auto-approve",
        "-no-color",
        "-var",
        "force_destroy=true",
    ]);
    let destroy_secs = started.elapsed().as_secs_f64();
    assert_eq!(tf.ok(&["state", "list"]).trim(), "");
    assert!(
        s3.head_bucket().bucket(&bucket).send().await.is_err(),
        "{bucket} survived destroy"
    );
    let queues = sqs.list_queues().send().await.unwrap();
    assert!(queues.queue_urls().is_empty(), "{queues:?}");

    println!(
        "terraform on moto: apply {apply_secs:.0} s, re-plan (no changes) {replan_secs:.0} s, \
         end to end {e2e_secs:.0} s, emptying + destroy {destroy_secs:.0} s"
    );
}
