//! The pipeline's status line and panel, as a person meets them: local mode's
//! stages from the data folder after an upload, and what the line and the panel
//! say when the credentials may see nothing (an endpoint that answers every
//! request `403 AccessDenied`, as S3 and SQS do). Widgets by role and label.

use std::io::{Read as _, Write as _};
use std::net::TcpListener;
use std::path::{Path, PathBuf};

use augment_client::{AwsSettings, Mode, OpsSettings, Settings};
use augment_desktop::queue::State;
use augment_desktop::{DesktopApp, Launch};
use egui::accesskit::Role;
use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT as _, Queryable as _};

use super::common::{SAMPLE, click, drop_files, local_settings, shows, wait_for, wait_until};

fn app(settings: Settings) -> Harness<'static, DesktopApp> {
    Harness::builder()
        .with_size(egui::vec2(1180.0, 760.0))
        .build_eframe(move |cc| DesktopApp::new(&cc.egui_ctx, settings, Launch::default()).unwrap())
}

#[test]
fn the_line_counts_local_uploads_and_its_panel_shows_the_stages() {
    let data = tempfile::tempdir().unwrap();
    let mut harness = app(local_settings(data.path()));
    wait_for(&mut harness, "Pipeline: 0 complete · 0 stuck");
    drop_files(&mut harness, &[PathBuf::from(SAMPLE)]);
    wait_until(&mut harness, "the upload done", |h| {
        h.state().transfers().iter().all(|t| t.state == State::Done)
    });
    click(&mut harness, "Pipeline: 0 complete · 0 stuck");
    wait_for(&mut harness, "Pipeline status");
    click(&mut harness, "Refresh");
    wait_for(&mut harness, "Pipeline: 1 complete · 0 stuck");
    for stage in ["Uploads", "Processed", "Complete", "Rejected", "Stuck"] {
        harness.get_by_label(stage);
    }
    assert!(shows(&harness, "the original design expects 5–10 s"));
    // Local mode finishes its own unfinished uploads: nothing to re-drive.
    let redrive = harness.get_by_role_and_label(Role::Button, "Re-drive…");
    assert!(redrive.accesskit_node().is_disabled());
}

/// An S3 and SQS endpoint that refuses everything, answering until dropped.
fn refusing_endpoint() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            let mut request = [0_u8; 64 * 1024];
            let _ = stream.read(&mut request);
            let body = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>";
            let _ = write!(
                stream,
                "HTTP/1.1 403 Forbidden\r\nContent-Type: application/xml\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    format!("http://{address}")
}

fn custom_settings(endpoint: &str) -> Settings {
    Settings {
        mode: Mode::Custom,
        aws: AwsSettings {
            bucket: "refused".into(),
            endpoint_url: Some(endpoint.to_owned()),
            ops: Box::new(OpsSettings {
                dlq_url: Some(format!("{endpoint}/123456789012/refused-dlq")),
                ..OpsSettings::default()
            }),
            ..AwsSettings::default()
        },
        ..Settings::default()
    }
}

/// Marks the child that runs a test's body with test credentials in its
/// environment (set for the child only: nothing from this machine's AWS files).
const CHILD: &str = "AUGMENT_STATUS_TEST_CHILD";

/// Runs the calling test again in a child process whose environment has test
/// credentials and no AWS files; `true` in the child (run the body there).
fn in_child_with_test_credentials(test: &str, home: &Path) -> bool {
    if std::env::var_os(CHILD).is_some() {
        return true;
    }
    let status = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", test, "--nocapture"])
        .env(CHILD, "1")
        .env("AWS_ACCESS_KEY_ID", "ANOTREAL")
        .env("AWS_SECRET_ACCESS_KEY", "notreal")
        .env("AWS_CONFIG_FILE", home.join("no-aws-config"))
        .env(
            "AWS_SHARED_CREDENTIALS_FILE",
            home.join("no-aws-credentials"),
        )
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .status()
        .unwrap();
    assert!(status.success(), "{test} failed in its child");
    false
}

#[test]
fn without_permission_the_line_says_so_and_the_panel_gives_the_statement() {
    let home = tempfile::tempdir().unwrap();
    if !in_child_with_test_credentials(
        "status::without_permission_the_line_says_so_and_the_panel_gives_the_statement",
        home.path(),
    ) {
        return;
    }
    let endpoint = refusing_endpoint();
    let mut harness = app(custom_settings(&endpoint));
    wait_for(&mut harness, "Pipeline: not allowed to list the bucket");
    click(&mut harness, "Pipeline: not allowed to list the bucket");
    wait_for(&mut harness, "Pipeline status");
    assert!(shows(&harness, "? (not allowed to list)"));
    assert!(shows(
        &harness,
        "Not allowed to see the listing of original-uploads/ of s3://refused"
    ));
    assert!(shows(
        &harness,
        r#""Action":["s3:ListBucket"],"Effect":"Allow","Resource":["arn:aws:s3:::refused"]"#
    ));
    assert!(shows(
        &harness,
        "Not allowed to see the dead letters queue's counts"
    ));
    assert!(shows(&harness, "sqs:GetQueueAttributes"));
}
