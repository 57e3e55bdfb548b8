//! Local mode on names: a file name too long for the folder is refused with a
//! record (not "object store put failed"), and a success clears the name's stale
//! failed record.

use augment_local::{LocalPipeline, PipelineEvent};
use augment_pipeline::imaging;
use augment_pipeline::memory::keys;
use augment_pipeline::ports::{ObjectStore, PutObject};
use augment_pipeline::steps::UploadOutcome;
use augment_pipeline::{FailedRecord, RejectCode, UploadKey};
use image::{Rgb, RgbImage};

fn photo() -> Vec<u8> {
    imaging::encode_jpeg(&RgbImage::from_pixel(64, 48, Rgb([20, 120, 220])))
}

/// Writes `body` at `key`, announces it, and returns the processor's outcome once
/// its rotations (if any) are done too.
async fn upload(
    pipeline: &LocalPipeline,
    events: &mut tokio::sync::mpsc::UnboundedReceiver<PipelineEvent>,
    key: &str,
    body: Vec<u8>,
) -> UploadOutcome {
    pipeline
        .store()
        .put(PutObject::new(key, body, "image/jpeg"))
        .await
        .unwrap();
    pipeline.notify_upload(key.into()).await;
    let mut outcome = None;
    let mut rotations = 0;
    loop {
        match events.recv().await.unwrap() {
            PipelineEvent::Upload { result, .. } => outcome = Some(result.unwrap()),
            PipelineEvent::Rotation { result, .. } => {
                result.unwrap();
                rotations += 1;
            }
        }
        match &outcome {
            Some(UploadOutcome::Processed { .. }) if rotations == 4 => break,
            Some(UploadOutcome::Processed { .. }) | None => {}
            Some(_) => break,
        }
    }
    outcome.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_250_byte_file_name_is_refused_with_a_record_the_folder_can_hold() {
    let dir = tempfile::tempdir().unwrap();
    let (pipeline, mut events) = LocalPipeline::start(dir.path(), 2);
    // 254 bytes with ".jpg": the upload fits a file name, `<name>_256x256.jpg` not.
    let name = "n".repeat(250);
    let key = format!("original-uploads/trip/{name}.jpg");

    let outcome = upload(&pipeline, &mut events, &key, photo()).await;

    let UploadOutcome::Rejected {
        rejection,
        upload: upload_key,
    } = outcome
    else {
        panic!("{outcome:?}")
    };
    assert_eq!(rejection.code, RejectCode::NameTooLong);
    assert!(rejection.message.contains("243 bytes"), "{rejection}");
    let record: FailedRecord = serde_json::from_slice(
        &pipeline
            .store()
            .get(&upload_key.failed_key(), 4096)
            .await
            .unwrap(),
    )
    .unwrap();
    assert_eq!(record.code, RejectCode::NameTooLong);
    assert_eq!(record.source_key, key);
    let listed = keys(pipeline.store(), "").await.unwrap();
    assert_eq!(listed, [format!("failed/trip/{name}.json"), key]);

    // A longer one still gets its record, under the short key.
    // 251 bytes: the upload is a 255-byte file name, `<name>.json` would be 256.
    let longer = format!("original-uploads/{}x.png", "é".repeat(125));
    let outcome = upload(&pipeline, &mut events, &longer, photo()).await;
    assert!(
        matches!(outcome, UploadOutcome::Rejected { .. }),
        "{outcome:?}"
    );
    let short = UploadKey::parse(&longer).unwrap().failed_key();
    assert!(short.len() < 140, "{short}");
    assert!(pipeline.store().head(&short).await.unwrap().is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_later_success_of_the_same_name_deletes_its_failed_record() {
    let dir = tempfile::tempdir().unwrap();
    let (pipeline, mut events) = LocalPipeline::start(dir.path(), 2);
    let key = "original-uploads/cat.jpg";
    let outcome = upload(&pipeline, &mut events, key, b"not an image".to_vec()).await;
    assert!(
        matches!(outcome, UploadOutcome::Rejected { .. }),
        "{outcome:?}"
    );
    assert!(dir.path().join("failed/cat.json").is_file());

    let outcome = upload(&pipeline, &mut events, key, photo()).await;

    assert!(
        matches!(outcome, UploadOutcome::Processed { .. }),
        "{outcome:?}"
    );
    assert!(!dir.path().join("failed/cat.json").exists());
    assert!(
        dir.path()
            .join("augmented-images/90-degree/cat_90.jpg")
            .is_file()
    );
}

/// Names legal on Linux, macOS or Windows that a folder cannot hold as they are
/// (Windows' reserved characters and device names, trailing dots and spaces, keys
/// SQS cannot carry as they are): each ends with its outputs, listed under the
/// upload's own name.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_awkward_name_ends_with_its_outputs() {
    let dir = tempfile::tempdir().unwrap();
    let (pipeline, mut events) = LocalPipeline::start(dir.path(), 2);
    for name in [
        "10:30",
        "a\\b",
        "CON",
        "nul ",
        "com¹",
        "LPT³",
        "CONIN$",
        "conout$",
        "trip./beach",
        "trip /x.",
        "what?*<>|\"",
        "tab\there",
        "50%25",
        ".augment-meta-x",
        "odd\u{FFFE}\u{FFFF}",
    ] {
        let key = format!("original-uploads/{name}.jpg");
        let outcome = upload(&pipeline, &mut events, &key, photo()).await;
        assert!(
            matches!(outcome, UploadOutcome::Processed { .. }),
            "{name}: {outcome:?}"
        );
        let upload_key = UploadKey::parse(&key).unwrap();
        let mut expected = vec![key.clone()];
        expected.extend(upload_key.output_keys());
        for expected in expected {
            let info = pipeline.store().head(&expected).await.unwrap();
            assert!(info.is_some(), "{name}: {expected}");
        }
        let listed = pipeline
            .store()
            .list(&upload_key.rotation_key(augment_pipeline::Angle::Deg90))
            .await
            .unwrap();
        assert_eq!(listed.len(), 1, "{name}");
    }
}

/// A name that needs escaping and is too long once escaped gets its record.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_name_too_long_once_escaped_gets_its_record() {
    let dir = tempfile::tempdir().unwrap();
    let (pipeline, mut events) = LocalPipeline::start(dir.path(), 2);
    let key = format!("original-uploads/{}.jpg", ":".repeat(82));
    let outcome = upload(&pipeline, &mut events, &key, photo()).await;
    let UploadOutcome::Rejected { rejection, upload } = outcome else {
        panic!("{outcome:?}")
    };
    assert_eq!(rejection.code, RejectCode::NameTooLong);
    assert!(
        pipeline
            .store()
            .head(&upload.failed_key())
            .await
            .unwrap()
            .is_some()
    );
}
