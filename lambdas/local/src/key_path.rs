//! The one rule that turns a bucket key into a path below a folder.

use std::path::{Path, PathBuf};

use augment_pipeline::ports::StoreError;

use crate::metadata;
use crate::store::TEMP_PREFIX;

/// Windows device names: a file called `CON`, `nul.jpg` or `COM1.png` is the
/// device, not a file, in any folder and with any extension.
const RESERVED_NAMES: &[&str] = &[
    "CON", "PRN", "AUX", "NUL", "COM0", "COM1", "COM2", "COM3", "COM4", "COM5", "COM6", "COM7",
    "COM8", "COM9", "LPT0", "LPT1", "LPT2", "LPT3", "LPT4", "LPT5", "LPT6", "LPT7", "LPT8", "LPT9",
];

/// The one way a bucket key becomes a file below `root` (the folder store, "Save
/// to folder…", `augment upload --out`). The same rules on every OS, so a key a
/// Linux folder accepts cannot escape a Windows one: segments are split on `/`
/// only; refused are empty, `.` and `..` segments (so absolute keys too), `\`,
/// `:` (drive letters, NTFS streams), NUL and other control characters, Windows
/// device names, and the store's own temporary-file and metadata prefixes.
pub fn key_path(root: &Path, key: &str) -> Result<PathBuf, StoreError> {
    let invalid = |reason| StoreError::InvalidKey {
        key: key.to_owned(),
        reason,
    };
    if key.contains(['\\', ':']) || key.chars().any(char::is_control) {
        return Err(invalid("backslash, colon or control character"));
    }
    let mut path = root.to_owned();
    for segment in key.split('/') {
        if segment.is_empty() || segment == "." || segment == ".." {
            return Err(invalid("empty, '.' or '..' path segment"));
        }
        let stem = segment.split('.').next().unwrap_or(segment).trim_end();
        if segment.starts_with(TEMP_PREFIX)
            || segment.starts_with(metadata::META_PREFIX)
            || RESERVED_NAMES
                .iter()
                .any(|name| stem.eq_ignore_ascii_case(name))
        {
            return Err(invalid("reserved name"));
        }
        path.push(segment);
    }
    Ok(path)
}
