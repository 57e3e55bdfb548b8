//! The rotation task: the versioned JSON message SQS carries.

use serde::{Deserialize, Serialize};

use super::key::{Angle, UploadKey};
use super::order::Sequencer;
use crate::limits::MAX_SEQUENCER_CHARS;
use crate::provenance::Provenance;

/// The SQS message body asking for one rotation. Versioned: a worker rejects a
/// version it does not know rather than guess.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RotationTask {
    pub v: u32,
    pub bucket: String,
    pub source_key: String,
    pub processed_key: String,
    pub angle: Angle,
    pub output_key: String,
    /// The S3 event sequencer of the upload (see [`Sequencer`]); absent in local
    /// mode and in tasks of earlier processors. Optional, so version 1 is kept:
    /// a worker that does not know it ignores it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sequencer: Option<String>,
    /// What the rotation records about how it was made: the facts of the upload
    /// the processor read ([`Provenance`]). Absent in tasks of earlier
    /// processors; optional, as `sequencer` is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provenance: Option<Provenance>,
}

/// Why a message body is not a task this worker will run.
#[derive(Debug, thiserror::Error)]
pub enum TaskError {
    #[error("the message is not a rotation task: {0}")]
    Json(#[from] serde_json::Error),
    #[error("task version {0} is not supported (this worker reads version {v})", v = RotationTask::VERSION)]
    Version(u32),
    #[error("the task's keys do not follow the bucket contract for {0}")]
    Keys(String),
    #[error("the task's sequencer is not 1 to {MAX_SEQUENCER_CHARS} hex digits: {0:?}")]
    Sequencer(String),
    #[error("the task's provenance is not well-formed (a SHA-256 in hex, short printable values)")]
    Provenance,
}

// Here, not in key.rs: a task is made of an upload's keys, so this file stands
// above key.rs, and the key knows nothing of tasks.
impl UploadKey {
    /// The rotation tasks for this upload, one per
    /// [`Output::ROTATIONS`](crate::outputs::Output::ROTATIONS), in angle order.
    pub fn tasks(&self, bucket: &str) -> [RotationTask; 4] {
        Angle::ALL.map(|angle| RotationTask {
            v: RotationTask::VERSION,
            bucket: bucket.to_owned(),
            source_key: self.as_str().to_owned(),
            processed_key: self.processed_key(),
            angle,
            output_key: self.rotation_key(angle),
            sequencer: None,
            provenance: None,
        })
    }
}

impl RotationTask {
    pub const VERSION: u32 = 1;

    /// The message body: JSON that SQS can carry. SQS refuses a body with a
    /// character outside `#x9 | #xA | #xD | #x20–#xD7FF | #xE000–#xFFFD |
    /// #x10000–#x10FFFF`; a key may hold U+FFFE or U+FFFF (S3 takes any UTF-8),
    /// so those are written as the JSON escapes `\ufffe` and `\uffff`, which
    /// parse back to the same key. (`serde_json` escapes the control characters
    /// already, and a Rust string holds no surrogate.)
    pub fn to_json(&self) -> String {
        // Serializing plain strings and numbers cannot fail.
        let json =
            serde_json::to_string(self).unwrap_or_else(|err| unreachable!("task JSON: {err}"));
        // Outside strings JSON is ASCII, so every such character is in a string.
        if json.contains(['\u{FFFE}', '\u{FFFF}']) {
            json.replace('\u{FFFE}', "\\ufffe")
                .replace('\u{FFFF}', "\\uffff")
        } else {
            json
        }
    }

    /// Parses and checks a message body: the version, and that both keys are the
    /// ones the contract derives from `source_key`, so a forged message cannot make
    /// the worker read or write anywhere else.
    pub fn from_json(body: &str) -> Result<Self, TaskError> {
        let task: Self = serde_json::from_str(body)?;
        if task.v != Self::VERSION {
            return Err(TaskError::Version(task.v));
        }
        let upload = UploadKey::parse(&task.source_key)
            .map_err(|_| TaskError::Keys(task.source_key.clone()))?;
        if task.processed_key != upload.processed_key()
            || task.output_key != upload.rotation_key(task.angle)
        {
            return Err(TaskError::Keys(task.source_key));
        }
        if let Some(raw) = &task.sequencer
            && Sequencer::parse(raw).is_none()
        {
            return Err(TaskError::Sequencer(raw.clone()));
        }
        if task
            .provenance
            .as_ref()
            .is_some_and(|provenance| !provenance.is_well_formed())
        {
            return Err(TaskError::Provenance);
        }
        Ok(task)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn task_round_trips_as_documented_json() {
        let key = UploadKey::parse("original-uploads/dir/beach day.jpg").unwrap();
        let [task, ..] = key.tasks("my-bucket");
        let json: serde_json::Value = serde_json::from_str(&task.to_json()).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "v": 1,
                "bucket": "my-bucket",
                "source_key": "original-uploads/dir/beach day.jpg",
                "processed_key": "processed/dir/beach day_256x256.jpg",
                "angle": 90,
                "output_key": "augmented-images/90-degree/dir/beach day_90.jpg",
            })
        );
        assert_eq!(RotationTask::from_json(&task.to_json()).unwrap(), task);
    }

    #[test]
    fn a_task_carries_its_upload_sequencer_and_stays_version_1() {
        let key = UploadKey::parse("original-uploads/cat.jpg").unwrap();
        let [mut task, ..] = key.tasks("b");
        task.sequencer = Some("0055AED6DCD90281E5".into());
        let json: serde_json::Value = serde_json::from_str(&task.to_json()).unwrap();
        assert_eq!(json["v"], 1);
        assert_eq!(json["sequencer"], "0055AED6DCD90281E5");
        assert_eq!(RotationTask::from_json(&task.to_json()).unwrap(), task);
        task.sequencer = Some("not hex".into());
        assert!(matches!(
            RotationTask::from_json(&task.to_json()),
            Err(TaskError::Sequencer(_))
        ));
    }

    #[test]
    fn a_task_carries_its_upload_provenance_and_stays_version_1() {
        let key = UploadKey::parse("original-uploads/cat.jpg").unwrap();
        let [mut task, ..] = key.tasks("b");
        task.provenance = Some(Provenance::of_source(b"cat"));
        let json: serde_json::Value = serde_json::from_str(&task.to_json()).unwrap();
        assert_eq!(json["v"], 1);
        assert_eq!(
            json["provenance"]["source_sha256"],
            crate::provenance::sha256_hex(b"cat")
        );
        assert_eq!(RotationTask::from_json(&task.to_json()).unwrap(), task);
        // A forged value would become an output's metadata: refused.
        for forged in [
            Provenance {
                source_sha256: Some("abc".into()),
                ..Provenance::default()
            },
            Provenance {
                parameters: Some("quality=90\r\nx-amz-acl: public-read".into()),
                ..Provenance::default()
            },
        ] {
            task.provenance = Some(forged);
            assert!(matches!(
                RotationTask::from_json(&task.to_json()),
                Err(TaskError::Provenance)
            ));
        }
    }

    #[test]
    fn a_task_with_any_key_is_json_sqs_carries_and_round_trips() {
        // SQS: #x9 | #xA | #xD | #x20-#xD7FF | #xE000-#xFFFD | #x10000-#x10FFFF.
        let sqs_safe = |c: char| {
            matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}')
                || c >= '\u{10000}'
        };
        let controls: String = ('\u{0}'..='\u{1F}').collect();
        for name in [
            "a\u{FFFE}b",
            "\u{FFFF}",
            "x\u{FFFE}\u{FFFF}\u{FFFD}\u{10FFFF}\u{1FFFE}",
            &controls,
            "\u{7F}\u{85}\u{2028}\"\\",
        ] {
            let upload = UploadKey::from_name(name, "jpg").unwrap();
            for task in upload.tasks("bucket") {
                let json = task.to_json();
                assert!(json.chars().all(sqs_safe), "{json:?}");
                assert_eq!(RotationTask::from_json(&json).unwrap(), task);
            }
        }
        let json = UploadKey::from_name("a\u{FFFE}", "jpg").unwrap().tasks("b")[0].to_json();
        assert!(json.contains("a\\ufffe.jpg"), "{json}");
    }

    #[test]
    fn bad_tasks_are_refused() {
        let key = UploadKey::parse("original-uploads/cat.jpg").unwrap();
        let good = serde_json::to_value(&key.tasks("b")[0]).unwrap();
        let with = |field: &str, value: serde_json::Value| {
            let mut v = good.clone();
            v[field] = value;
            v.to_string()
        };
        assert!(matches!(
            RotationTask::from_json("not json"),
            Err(TaskError::Json(_))
        ));
        assert!(matches!(
            RotationTask::from_json(&with("angle", 45.into())),
            Err(TaskError::Json(_))
        ));
        assert!(matches!(
            RotationTask::from_json(&with("v", 2.into())),
            Err(TaskError::Version(2))
        ));
        assert!(matches!(
            RotationTask::from_json(&with("output_key", "original-uploads/evil.jpg".into())),
            Err(TaskError::Keys(_))
        ));
        assert!(matches!(
            RotationTask::from_json(&with("angle", 180.into())),
            Err(TaskError::Keys(_))
        ));
        assert!(matches!(
            RotationTask::from_json(&with("source_key", "processed/cat.jpg".into())),
            Err(TaskError::Keys(_))
        ));
    }
}
