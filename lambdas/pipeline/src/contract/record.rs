//! The failed record: what `failed/<name>.json` holds.

use serde::{Deserialize, Serialize};

use super::UploadKey;
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
