//! Writing a file on this machine whole or not at all: a temporary file in the
//! same folder, renamed into place, so nothing half-written ever has its final
//! name (a download or an export killed mid-file leaves only a hidden temporary
//! file, which the folder store's listing never shows).

use std::io::{self, Write as _};
use std::path::Path;
use std::time::SystemTime;

/// Temporary files start with this: the folder store's own prefix, so a folder
/// written here and later opened as a data folder never lists them.
pub(crate) use augment_local::TEMP_PREFIX;

/// What to do when the final name is taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Existing {
    /// Replace it (a download bringing a file up to date).
    Replace,
    /// Refuse with [`io::ErrorKind::AlreadyExists`] (an export, where two
    /// outputs may not share a file).
    Refuse,
}

/// Writes `bytes` to `path` (its folders made as needed) through a temporary
/// file renamed into place; with `modified`, the file's modification time is set
/// to it before the rename. Blocking.
pub(crate) fn write_atomically(
    path: &Path,
    bytes: &[u8],
    modified: Option<SystemTime>,
    existing: Existing,
) -> io::Result<()> {
    let mut temp = augment_local::temp_file_beside(path)?;
    temp.write_all(bytes)?;
    if let Some(modified) = modified {
        temp.as_file().set_modified(modified)?;
    }
    match existing {
        Existing::Replace => temp.persist(path).map(drop),
        Existing::Refuse => temp.persist_noclobber(path).map(drop),
    }
    .map_err(|err| err.error)
}

/// Whether `path` is a file holding exactly `bytes` (by size first, then by
/// SHA-256): a file an interrupted export already wrote, kept as it is.
pub(crate) fn holds(path: &Path, bytes: &[u8], sha256: &str) -> bool {
    std::fs::metadata(path).is_ok_and(|meta| meta.is_file() && meta.len() == bytes.len() as u64)
        && std::fs::read(path)
            .is_ok_and(|on_disk| augment_pipeline::provenance::sha256_hex(&on_disk) == sha256)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_lands_whole_with_its_time_and_nothing_else_is_left() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a/b/c.jpg");
        let when = SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_700_000_000);
        write_atomically(&path, b"bytes", Some(when), Existing::Replace).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"bytes");
        assert_eq!(std::fs::metadata(&path).unwrap().modified().unwrap(), when);
        write_atomically(&path, b"new", None, Existing::Replace).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"new");

        let refused = write_atomically(&path, b"other", None, Existing::Refuse).unwrap_err();
        assert_eq!(refused.kind(), io::ErrorKind::AlreadyExists);
        assert_eq!(std::fs::read(&path).unwrap(), b"new");
        let names: Vec<_> = std::fs::read_dir(path.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["c.jpg"]);
    }
}
