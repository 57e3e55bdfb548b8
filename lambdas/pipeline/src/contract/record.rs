//! The failed record: what `failed/<name>.json` holds.

use serde::{Deserialize, Serialize};

use super::key::UploadKey;
use crate::reject::{RejectCode, Rejection};

/// What `failed/<name>.json` holds: why the upload was rejected.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FailedRecord {
    pub v: u32,
    pub source_key: String,
    pub code: RejectCode,
    pub message: String,
}

impl FailedRecord {
    pub const VERSION: u32 = 1;

    pub fn new(upload: &UploadKey, rejection: &Rejection) -> Self {
        Self {
            v: Self::VERSION,
            source_key: upload.as_str().to_owned(),
            code: rejection.code,
            message: rejection.message.clone(),
        }
    }

    pub fn to_json(&self) -> Vec<u8> {
        serde_json::to_vec_pretty(self).unwrap_or_else(|err| unreachable!("record JSON: {err}"))
    }

    pub fn rejection(&self) -> Rejection {
        Rejection::new(self.code, self.message.clone())
    }
}

/// A failed record as a client reads it: the code kept as written, so a record
/// a newer pipeline wrote, with a code this version does not know, still reads
/// and is shown with its own code and message (never turned into another code,
/// never dropped).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Verdict {
    pub source_key: String,
    /// `too_large`, `corrupt`…, or a code this version does not know.
    pub code: String,
    /// Why, for people.
    pub message: String,
}

impl Verdict {
    /// The record's code for a record that is not JSON of a failed record at
    /// all (damaged, or laid out by some other writer).
    pub const UNREADABLE: &str = "unreadable_record";

    /// The record in `bytes`, whatever its code; `None` unless it is JSON with
    /// a source key, a code and a message.
    pub fn parse(bytes: &[u8]) -> Option<Self> {
        serde_json::from_slice(bytes).ok()
    }

    /// What a record that does not parse still means: the upload failed, and
    /// the record is where to look.
    pub fn unreadable(upload: &UploadKey) -> Self {
        Self {
            source_key: upload.as_str().to_owned(),
            code: Self::UNREADABLE.to_owned(),
            message: "The pipeline rejected this file, but its record could not be read. Look at the record in the bucket's failed/ folder.".to_owned(),
        }
    }

    /// The code, if this version knows it.
    pub fn known_code(&self) -> Option<RejectCode> {
        RejectCode::ALL
            .into_iter()
            .find(|code| code.as_str() == self.code)
    }
}

impl From<FailedRecord> for Verdict {
    fn from(record: FailedRecord) -> Self {
        Self {
            source_key: record.source_key,
            code: record.code.as_str().to_owned(),
            message: record.message,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_code_this_version_does_not_know_is_kept_with_its_message() {
        let newer = br#"{"v":1,"source_key":"original-uploads/a.jpg","code":"too_tall","message":"Crop it."}"#;
        let verdict = Verdict::parse(newer).unwrap();
        assert_eq!(verdict.code, "too_tall");
        assert_eq!(verdict.message, "Crop it.");
        assert_eq!(verdict.known_code(), None);
        let upload = UploadKey::parse("original-uploads/a.jpg").unwrap();
        let written = FailedRecord::new(&upload, &Rejection::too_large(11 << 20));
        let read = Verdict::parse(&written.to_json()).unwrap();
        assert_eq!(read.known_code(), Some(RejectCode::TooLarge));
        assert_eq!(read, Verdict::from(written));
        assert_eq!(Verdict::parse(b"{not json"), None);
    }
}
