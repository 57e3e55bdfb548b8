//! The one rule that turns a bucket key into a path below a folder.

use std::path::{Path, PathBuf};

use augment_pipeline::folder_names;
use augment_pipeline::ports::StoreError;

/// The one way a bucket key becomes a file below `root` (the folder store, "Save
/// to folder…", `augment upload --out`). The same rules on every OS, so a key a
/// Linux folder accepts cannot escape or alias on a Windows one: segments are
/// split on `/` only, and each is named by [`folder_names::escape`] (reversible
/// percent-escapes of what some OS's folder cannot hold: `\`, `:` and the rest
/// of Windows' reserved characters, control characters, device names such as
/// `CON.jpg`, trailing dots and spaces, the store's own file prefixes), so
/// `10:30.jpg` is the file `10%3A30.jpg` and lists back as `10:30.jpg`. Refused
/// are only empty, `.` and `..` segments (so absolute keys too): no file has
/// such a name, and they would leave the root.
pub fn key_path(root: &Path, key: &str) -> Result<PathBuf, StoreError> {
    let mut path = root.to_owned();
    for segment in key.split('/') {
        if segment.is_empty() || segment == "." || segment == ".." {
            return Err(StoreError::InvalidKey {
                key: key.to_owned(),
                reason: "empty, '.' or '..' path segment",
            });
        }
        path.push(folder_names::escape(segment).as_ref());
    }
    Ok(path)
}
