//! The checks of the parser targets, on what a parser made of untrusted text. Also
//! compiled into the pipeline's tests (`tests/it/parser_corpus.rs`), which replay
//! the saved corpora on stable. Each check panics on a broken promise.

use augment_pipeline::Angle;
use augment_pipeline::RejectCode;
use augment_pipeline::contract::{
    KeyRules, RotationTask, Sequencer, UploadKey, decode_event_key, encode_event_key,
};
use augment_pipeline::limits::MAX_SEQUENCER_CHARS;

/// `decode_event_key` on any text: decoding what S3 would have encoded gives the
/// key back, and text with nothing to decode is its own key.
pub fn check_event_key(raw: &str) {
    let Ok(decoded) = decode_event_key(raw) else {
        assert!(raw.contains('%'), "only a %-escape can be bad: {raw:?}");
        return;
    };
    if !raw.contains(['%', '+']) {
        assert_eq!(decoded, raw);
    }
    assert_eq!(
        decode_event_key(&encode_event_key(&decoded)).as_deref(),
        Ok(decoded.as_str())
    );
}

/// One record's key and sequencer, as the processor reads them: the upload key's
/// parts and outputs follow the contract, the name check and the failed record's
/// key hold, and a sequencer parses to something comparable.
pub fn check_record(raw_key: &str, sequencer: Option<&str>) {
    check_event_key(raw_key);
    if let Some(raw) = sequencer
        && let Some(parsed) = Sequencer::parse(raw)
    {
        assert!(parsed.as_str().len() <= MAX_SEQUENCER_CHARS);
        assert!(parsed.as_str().eq_ignore_ascii_case(raw));
        assert_eq!(parsed, parsed.clone());
        let padded = Sequencer::parse(&format!("0{raw}"));
        if raw.len() < MAX_SEQUENCER_CHARS {
            assert_eq!(
                padded.as_ref(),
                Some(&parsed),
                "a leading zero changes nothing"
            );
        }
    }
    let Ok(key) = decode_event_key(raw_key) else {
        return;
    };
    check_upload_key(&key);
}

/// What the contract promises of any upload key.
pub fn check_upload_key(key: &str) {
    let Ok(upload) = UploadKey::parse(key) else {
        return;
    };
    assert!(!upload.name().is_empty());
    assert!(key.contains(upload.name()));
    let back = UploadKey::from_processed_key(&upload.processed_key())
        .unwrap_or_else(|| panic!("no upload key back from {}", upload.processed_key()));
    assert_eq!(back.name(), upload.name());
    for rules in [KeyRules::S3, KeyRules::FOLDER] {
        match upload.check_key_length(rules) {
            Ok(()) => assert!(upload.output_keys().iter().all(|k| rules.fits(k))),
            Err(rejection) => assert_eq!(rejection.code, RejectCode::NameTooLong),
        }
    }
    let failed = upload.failed_key();
    assert!(
        KeyRules::FOLDER.fits(&failed),
        "a failed record's key fits every store: {failed:?}"
    );
    let [task, ..] = upload.tasks("bucket");
    assert_eq!(RotationTask::from_json(&task.to_json()).ok(), Some(task));
}

/// `RotationTask::from_json` on any text: what it accepts names the contract's
/// own keys, and reads back the same after writing.
pub fn check_task_json(body: &str) {
    let Ok(task) = RotationTask::from_json(body) else {
        return;
    };
    assert_eq!(task.v, RotationTask::VERSION);
    assert!(Angle::ALL.contains(&task.angle));
    let upload = UploadKey::parse(&task.source_key).expect("an accepted task has an upload key");
    assert_eq!(task.processed_key, upload.processed_key());
    assert_eq!(task.output_key, upload.rotation_key(task.angle));
    if let Some(raw) = &task.sequencer {
        assert!(Sequencer::parse(raw).is_some());
    }
    let again = RotationTask::from_json(&task.to_json()).expect("a task reads back");
    assert_eq!(again, task);
}
