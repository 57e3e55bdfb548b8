//! The parser targets' saved corpora (`fuzz/corpus/{s3_event,rotation_task,event_key}`:
//! seeds and every crash found) replayed on stable in every test run, through the
//! same checks the fuzz targets make (`fuzz/fuzz_targets/parsers.rs`).

use std::path::PathBuf;

#[path = "../../fuzz/fuzz_targets/parsers.rs"]
mod parsers;

fn corpus(target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let folder = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/corpus")
        .join(target);
    let mut files: Vec<(PathBuf, Vec<u8>)> = std::fs::read_dir(&folder)
        .unwrap()
        .map(|entry| {
            let path = entry.unwrap().path();
            let bytes = std::fs::read(&path).unwrap();
            (path, bytes)
        })
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no corpus in {}", folder.display());
    files
}

#[test]
fn saved_event_keys_decode_back_to_what_s3_encoded() {
    for (_, bytes) in corpus("event_key") {
        parsers::check_record(&String::from_utf8_lossy(&bytes), None);
    }
    assert_eq!(
        augment_pipeline::contract::encode_event_key("original-uploads/beach day+1 é.jpg"),
        "original-uploads/beach+day%2B1+%C3%A9.jpg"
    );
}

#[test]
fn saved_rotation_task_bodies_are_read_as_the_contract_says() {
    let mut accepted = 0;
    for (path, bytes) in corpus("rotation_task") {
        let Ok(body) = std::str::from_utf8(&bytes) else {
            continue;
        };
        parsers::check_task_json(body);
        accepted += usize::from(augment_pipeline::RotationTask::from_json(body).is_ok());
        println!("{}", path.display());
    }
    assert!(accepted >= 2, "the valid seeds are accepted");
}

/// The records' keys and sequencers, read from the JSON as the processor's event
/// type would (this crate does not depend on the AWS event types; the processor's
/// tests run the same files through its handler).
#[test]
fn saved_s3_events_keys_and_sequencers_follow_the_contract() {
    let mut records = 0;
    for (_, bytes) in corpus("s3_event") {
        let Ok(event) = serde_json::from_slice::<serde_json::Value>(&bytes) else {
            continue;
        };
        for record in event["Records"].as_array().into_iter().flatten() {
            let object = &record["s3"]["object"];
            if let Some(key) = object["key"].as_str() {
                parsers::check_record(key, object["sequencer"].as_str());
                records += 1;
            }
        }
    }
    assert!(records >= 5, "{records} records");
}
