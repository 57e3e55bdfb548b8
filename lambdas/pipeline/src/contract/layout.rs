//! The bucket's layout: its four prefixes, the extensions an upload may end in,
//! and which keys a store can hold. A leaf: the contract's other files ask it.

use crate::folder_names;
use crate::limits::{MAX_FILE_NAME_BYTES, MAX_KEY_BYTES};

pub const UPLOAD_PREFIX: &str = "original-uploads/";
pub const PROCESSED_PREFIX: &str = "processed/";
pub const AUGMENTED_PREFIX: &str = "augmented-images/";
pub const FAILED_PREFIX: &str = "failed/";

/// Extensions an upload key may end in (compared case-insensitively).
pub const UPLOAD_EXTENSIONS: [&str; 3] = ["jpg", "jpeg", "png"];

/// Which keys a store can hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyRules {
    /// Longest key, in bytes.
    pub max_key_bytes: usize,
    /// Longest part between two `/`, in bytes, where the store has such a limit:
    /// a folder's, measured as the folder names the part ([`folder_names::escape`]).
    pub max_file_name_bytes: Option<usize>,
}

impl KeyRules {
    /// S3 (and every S3-compatible store): 1,024 bytes a key.
    pub const S3: Self = Self {
        max_key_bytes: MAX_KEY_BYTES,
        max_file_name_bytes: None,
    };
    /// A folder laid out like the bucket: S3's rule, so that what works locally
    /// works in the bucket, and 255 bytes a file name.
    pub const FOLDER: Self = Self {
        max_key_bytes: MAX_KEY_BYTES,
        max_file_name_bytes: Some(MAX_FILE_NAME_BYTES),
    };

    /// Whether `key` fits.
    pub fn fits(self, key: &str) -> bool {
        key.len() <= self.max_key_bytes
            && self.max_file_name_bytes.is_none_or(|max| {
                key.split('/')
                    .all(|part| folder_names::escaped_len(part) <= max)
            })
    }
}

/// Whether `ext` (without the dot) is an extension an upload may end in, in any
/// case: the one extension rule, for keys, file names and folder walks alike.
pub fn is_upload_extension(ext: &str) -> bool {
    UPLOAD_EXTENSIONS
        .iter()
        .any(|ok| ext.eq_ignore_ascii_case(ok))
}
