//! `augment upload` as a person runs it: the settings file (or flags) choose the
//! backend; files are checked, uploaded, waited for and downloaded.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use augment_aws::testing::{self, Moto};
use augment_aws::{S3Store, SqsQueue};
use augment_pipeline::steps::{make_rotation, process_upload};
use augment_pipeline::{ObjectStore as _, RotationTask, UploadKey};
use image::{ImageFormat, Rgb, RgbImage};

use super::{augment, files, folder, jpeg, run, says, write};

const BUCKET: &str = "augment-cli-test";

/// The keys of every output of an upload named `name`, by the one model.
fn outputs(name: &str) -> Vec<String> {
    UploadKey::from_name(name, "jpg")
        .unwrap()
        .output_keys()
        .to_vec()
}

/// `--timeout-secs 0` is "do not wait". Local mode runs the pipeline in this
/// program, so it still waits until each file is processed: nothing is left
/// unprocessed. Elsewhere it cannot go with `--out`, which needs the rotations.
#[test]
fn timeout_zero_never_leaves_a_local_upload_unprocessed() {
    let home = tempfile::tempdir().unwrap();
    let photo = write(&home.path().join("photos/wide.jpg"), &jpeg(900, 300));
    let (code, _, stderr) = run(augment(home.path())
        .args(["upload", "--local", "--timeout-secs", "0"])
        .arg(&photo));
    assert_eq!(code, Some(0), "{stderr}");
    let data = files(&home.path().join("data"));
    for key in outputs("wide") {
        assert!(data.contains(&key), "{key} missing: {data:?}");
    }

    let (code, _, stderr) = run(augment(home.path())
        .args(["upload", "--bucket", BUCKET, "--region", "us-east-1"])
        .args(["--timeout-secs", "0", "--out"])
        .arg(home.path().join("out"))
        .arg(&photo));
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("--timeout-secs more than 0"), "{stderr}");
}

#[test]
fn local_mode_uploads_waits_and_downloads_the_bucket_layout() {
    let home = tempfile::tempdir().unwrap();
    let mut cut = jpeg(400, 300);
    cut.truncate(cut.len() / 3);
    let photos = folder(
        &home.path().join("photos"),
        &[
            ("wide.jpg", jpeg(900, 300)),
            ("trip/beach day.JPG", jpeg(300, 500)),
            ("notes.jpg", b"this is not an image".to_vec()),
            ("cut.jpg", cut),
        ],
    );
    let out = home.path().join("out");

    // No settings file: local mode.
    let (code, stdout, stderr) = run(augment(home.path())
        .args(["upload", "--out"])
        .arg(&out)
        .arg(&photos));
    assert_eq!(code, Some(1), "two files are rejected\n{stderr}");
    // A line a rejected file: its code, its name and why.
    let said = |code: &str, file: &str| {
        stderr
            .lines()
            .any(|line| line.contains(code) && line.contains(file))
    };
    assert!(
        said("rejected unsupported_type:", "notes.jpg: The file is text")
            && said("rejected corrupt:", "cut.jpg"),
        "{stderr}"
    );
    assert_eq!(stderr.lines().count(), 2, "{stderr}");
    assert!(stdout.starts_with("2 done, 2 rejected in "), "{stdout}");

    // Both rejections leave a record in --out: the one the pipeline made, and
    // the one for the file refused before upload, in the same shape.
    let mut expected: BTreeSet<String> = outputs("wide").into_iter().collect();
    expected.extend(outputs("trip/beach day"));
    expected.insert("failed/cut.json".into());
    expected.insert("failed/notes.json".into());
    assert_eq!(files(&out), expected);
    let record = |name: &str| -> serde_json::Value {
        serde_json::from_slice(&std::fs::read(out.join("failed").join(name)).unwrap()).unwrap()
    };
    let (refused, rejected) = (record("notes.json"), record("cut.json"));
    assert_eq!(refused["code"], "unsupported_type", "{refused}");
    assert_eq!(rejected["code"], "corrupt", "{rejected}");
    let fields = |value: &serde_json::Value| -> Vec<String> {
        value.as_object().unwrap().keys().cloned().collect()
    };
    assert_eq!(fields(&refused), fields(&rejected));

    // The data folder holds the uploads (not the file the client refused).
    let data = files(&home.path().join("data"));
    assert!(
        data.contains("original-uploads/trip/beach day.JPG"),
        "{data:?}"
    );
    assert!(data.contains("original-uploads/cut.jpg"), "{data:?}");
    assert!(!data.contains("original-uploads/notes.jpg"), "{data:?}");

    // Again: the same bytes are skipped by default, and it says so.
    let again = |flags: &[&str]| {
        run(augment(home.path())
            .args(["upload", "--quiet"])
            .args(flags)
            .arg(photos.join("wide.jpg")))
    };
    let (code, _, stderr) = again(&[]);
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(
        stderr.trim_end(),
        "skipped wide.jpg: the same bytes are uploaded as original-uploads/wide.jpg (--on-duplicate rename uploads it again)"
    );
    assert!(!files(&home.path().join("data")).contains("original-uploads/wide-2.jpg"));
    // Asked to: nothing is overwritten, the new upload gets -2, and it says so.
    let (code, _, stderr) = again(&["--on-duplicate", "rename"]);
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(
        stderr.trim_end(),
        "renamed wide.jpg → wide-2.jpg (the name is taken)"
    );
    let data = files(&home.path().join("data"));
    assert!(
        data.contains("original-uploads/wide-2.jpg")
            && data.contains("augmented-images/90-degree/wide-2_90.jpg"),
        "{data:?}"
    );
}

#[test]
fn settings_and_usage_errors_exit_2() {
    let home = tempfile::tempdir().unwrap();
    let photo = write(&home.path().join("a.jpg"), &jpeg(16, 16));

    write(&home.path().join("config/settings.json"), b"{ damaged");
    let (code, _, stderr) = run(augment(home.path()).arg("upload").arg(&photo));
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("settings file is damaged"), "{stderr}");

    std::fs::write(
        home.path().join("config/settings.json"),
        br#"{"mode": "custom", "aws": {"bucket": "b"}}"#,
    )
    .unwrap();
    let (code, _, stderr) = run(augment(home.path()).arg("upload").arg(&photo));
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("endpoint needs its URL"), "{stderr}");
    assert!(stderr.contains("Enter it with --endpoint-url."), "{stderr}");

    // A profile that is in neither AWS file (the saved custom mode is gone).
    std::fs::remove_file(home.path().join("config/settings.json")).unwrap();
    write(
        &home.path().join("aws-config"),
        b"[default]\nregion = eu-west-1\n[profile work]\nregion = eu-west-2\n",
    );
    let (code, _, stderr) = run(augment(home.path())
        .env("AWS_CONFIG_FILE", home.path().join("aws-config"))
        .args(["upload", "--bucket", "b", "--profile", "nope"])
        .arg(&photo));
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains("no such profile") && stderr.trim_end().ends_with("nope"),
        "{stderr}"
    );

    let (code, _, stderr) = run(augment(home.path())
        .args(["upload", "--local", "--bucket", "x"])
        .arg(&photo));
    assert_eq!(code, Some(2), "{stderr}");
    let (code, _, _) = run(augment(home.path()).args(["upload", "missing.jpg"]));
    assert_eq!(code, Some(2));
}

/// A custom endpoint over plain http:// to another machine is refused, saying
/// why and naming the flag; with `--allow-http` it is used (and here, where
/// nothing listens, unreachable).
#[test]
fn plain_http_to_another_machine_needs_allow_http() {
    let home = tempfile::tempdir().unwrap();
    let photo = write(&home.path().join("a.jpg"), &jpeg(16, 16));
    // 0.0.0.0 is not loopback, and a connection to it is refused at once.
    let upload = |endpoint: &str, extra: &[&str]| {
        run(augment(home.path())
            .env("AWS_ACCESS_KEY_ID", "test")
            .env("AWS_SECRET_ACCESS_KEY", "test")
            .args(["upload", "--bucket", "b", "--endpoint-url", endpoint])
            .args(extra)
            .arg(&photo))
    };
    let (code, _, stderr) = upload("http://0.0.0.0:9/", &[]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains("unencrypted") && stderr.contains("--allow-http"),
        "{stderr}"
    );
    let (code, _, stderr) = upload("http://0.0.0.0:9/", &["--allow-http"]);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(!stderr.contains("--allow-http"), "{stderr}");
    // This machine needs no flag.
    let (code, _, stderr) = upload("http://127.0.0.1:9/", &[]);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(!stderr.contains("--allow-http"), "{stderr}");
}

/// Advice names what the command line has, the flag or the environment
/// variable, never the app's Settings: in local mode (a data folder that
/// cannot be made) and in custom mode (no credentials, below).
#[test]
fn advice_names_the_flag_or_variable_in_local_and_custom_mode() {
    let home = tempfile::tempdir().unwrap();
    let photo = write(&home.path().join("a.jpg"), &jpeg(16, 16));
    let not_a_folder = write(&home.path().join("data-is-a-file"), b"");
    let (code, _, stderr) = run(augment(home.path())
        .env("AUGMENT_DATA_DIR", &not_a_folder)
        .args(["upload", "--local"])
        .arg(&photo));
    assert_eq!(code, Some(1), "{stderr}");
    assert!(
        stderr.starts_with(
            "error: Cannot create the data folder; choose another with the AUGMENT_DATA_DIR environment variable: "
        ),
        "{stderr}"
    );
    assert!(!stderr.contains("Settings"), "{stderr}");
}

#[test]
fn no_credentials_anywhere_says_how_to_get_some() {
    let moto = Moto::start().unwrap();
    let home = tempfile::tempdir().unwrap();
    let photo = write(&home.path().join("a.jpg"), &jpeg(16, 16));
    // The real default chain, with nothing to find: no env keys, no files, no SSO,
    // no instance metadata.
    let (code, _, stderr) = run(augment(home.path())
        .args([
            "upload",
            "--bucket",
            BUCKET,
            "--endpoint-url",
            &moto.endpoint,
        ])
        .arg(&photo));
    assert_eq!(code, Some(1), "{stderr}");
    let message = "error: No AWS credentials found. Run `aws configure` or `aws sso login`, or pick a profile with --profile.";
    assert_eq!(stderr.trim(), message);

    // --verbose: the same words, then the technical causes (the SDK's).
    let (code, _, stderr) = run(augment(home.path())
        .args(["upload", "--verbose", "--bucket", BUCKET, "--endpoint-url"])
        .arg(&moto.endpoint)
        .arg(&photo));
    assert_eq!(code, Some(1), "{stderr}");
    let line = stderr
        .lines()
        .find(|line| line.starts_with("error: "))
        .unwrap_or_default();
    assert!(
        line.starts_with(message) && line.len() > message.len() + 10,
        "{stderr}"
    );
}

#[test]
fn the_man_page_comes_from_the_argument_definitions() {
    let home = tempfile::tempdir().unwrap();
    let (code, page, stderr) = run(augment(home.path()).arg("--generate-man-page"));
    assert_eq!(code, Some(0), "{stderr}");
    assert!(page.contains(".TH augment"), "{page}");
    for section in ["AUGMENT PROCESS", "AUGMENT UPLOAD"] {
        assert!(
            page.contains(&format!(".SH \"{section}\"")),
            "{section}: {page}"
        );
    }
    // Each subcommand's own options are on the page.
    for option in ["timeout\\-secs", "endpoint\\-url", "jobs"] {
        assert!(page.contains(option), "{option}: {page}");
    }
    // Hidden: not in the help a person reads.
    let (_, help, _) = run(augment(home.path()).arg("--help"));
    assert!(!help.contains("generate-man-page"), "{help}");
}

/// `augment` aimed at moto through flags, with the test credentials in the env.
fn augment_on(moto: &Moto, home: &Path) -> Command {
    let mut command = augment(home);
    command.envs(moto.env()).args([
        "upload",
        "--bucket",
        BUCKET,
        "--endpoint-url",
        &moto.endpoint,
    ]);
    command
}

#[test]
fn a_missing_bucket_stops_before_any_upload() {
    let moto = Moto::start().unwrap();
    let home = tempfile::tempdir().unwrap();
    let photo = write(&home.path().join("a.jpg"), &jpeg(16, 16));
    let (code, _, stderr) = run(augment_on(&moto, home.path()).arg(&photo));
    assert_eq!(code, Some(1), "{stderr}");
    assert!(
        stderr.starts_with("error: The bucket does not exist.")
            && stderr.trim_end().ends_with(BUCKET),
        "{stderr}"
    );
}

#[test]
fn an_unreachable_endpoint_is_named() {
    // A port that was free a moment ago: nothing listens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let endpoint = format!("http://127.0.0.1:{port}");
    let home = tempfile::tempdir().unwrap();
    let photo = write(&home.path().join("a.jpg"), &jpeg(16, 16));
    let (code, stdout, stderr) = run(augment(home.path())
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .args(["upload", "--bucket", BUCKET, "--endpoint-url", &endpoint])
        .arg(&photo));
    assert_eq!(code, Some(1), "{stderr}");
    assert!(
        stderr.starts_with("error: No answer from the storage service.")
            && stderr.trim_end().ends_with(&endpoint),
        "{stderr}"
    );
    assert!(!stderr.contains(BUCKET), "{stderr}");
    assert!(stdout.is_empty(), "{stdout}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s3_upload_waits_for_the_pipeline_and_downloads_its_outputs() {
    let moto = Moto::start().unwrap();
    let clients = moto.clients();
    let queue_url = testing::create_bucket_and_queue(&clients, BUCKET, "rotations")
        .await
        .unwrap();
    let home = tempfile::tempdir().unwrap();
    let photo = write(&home.path().join("pics/cat.png"), &{
        let mut out = std::io::Cursor::new(Vec::new());
        RgbImage::from_pixel(50, 80, Rgb([10, 200, 10]))
            .write_to(&mut out, ImageFormat::Png)
            .unwrap();
        out.into_inner()
    });

    // Without --wait: uploaded, exit 0, nothing else.
    let (code, stdout, stderr) = run(augment_on(&moto, home.path()).arg(&photo));
    assert_eq!(code, Some(0), "{stderr}");
    assert!(
        stdout.starts_with("1 uploaded, 0 rejected in ")
            && stdout.contains("s3://augment-cli-test"),
        "{stdout}"
    );

    // With --out, while the "Lambdas" (the steps) run on what arrives.
    let out = home.path().join("out");
    let child = augment_on(&moto, home.path())
        .args(["--on-duplicate", "rename", "--timeout-secs", "30", "--out"])
        .arg(&out)
        .arg(&photo)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let store = S3Store::new(clients.s3.clone(), BUCKET);
    let queue = SqsQueue::new(clients.sqs.clone(), &queue_url);
    let key = "original-uploads/cat-2.png";
    let started = Instant::now();
    while !matches!(store.head(key).await, Ok(Some(_))) {
        assert!(started.elapsed() < Duration::from_secs(30), "no upload");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    process_upload(&store, &queue, BUCKET, key).await.unwrap();
    for message in testing::receive_all(&clients, &queue_url).await.unwrap() {
        let task = RotationTask::from_json(message.body().unwrap()).unwrap();
        make_rotation(&store, &task).await.unwrap();
    }
    let output = tokio::task::spawn_blocking(move || child.wait_with_output())
        .await
        .unwrap()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert!(String::from_utf8_lossy(&output.stdout).starts_with("1 done, 0 rejected"));
    assert_eq!(files(&out), outputs("cat-2").into_iter().collect());

    // Nobody processes this one (a custom endpoint: moto): --wait says so, and
    // what to check. The same bytes are already uploaded as cat.png: skipped
    // (said on stderr), and that upload is the one waited for.
    let (code, _, stderr) = run(augment_on(&moto, home.path())
        .args(["--wait", "--timeout-secs", "1"])
        .arg(&photo));
    assert_eq!(code, Some(1), "{stderr}");
    says(
        &stderr,
        &[
            "skipped cat.png",
            "cat.png: no rotations within 1 s",
            "runs the pipeline",
        ],
    );
}
