//! Writing a file on this machine whole or not at all: a temporary file in the
//! same folder, renamed into place, so nothing half-written ever has its final
//! name (a download or an export killed mid-file leaves only a hidden temporary
//! file, which the folder store's listing never shows).

use std::fs::File;
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};
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

/// A folder one download writes into, held until dropped: a second download
/// into it is refused, and the temporary files found in it when it was taken
/// were a killed run's, so they are removed. The lock is a file in the system's
/// temporary folder named by the folder's canonical path (the user's folder
/// gets nothing of ours); the OS releases it when the holder exits or is killed.
pub(crate) struct FolderLock {
    _lock: File,
}

impl FolderLock {
    /// Takes `dest` (made as needed) and removes the temporary files below each
    /// of `folders` (the parts of `dest` the download writes). `Ok(None)` when
    /// another download holds it.
    pub(crate) fn take(dest: &Path, folders: &[PathBuf]) -> io::Result<Option<Self>> {
        std::fs::create_dir_all(dest)?;
        let canonical = dest.canonicalize()?;
        let id = augment_pipeline::provenance::sha256_hex(canonical.as_os_str().as_encoded_bytes());
        let path = std::env::temp_dir().join(format!("augment-download-{}.lock", &id[..16]));
        let lock = match File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
        {
            // Another user's lock file (a shared temporary folder): a lock
            // needs only a handle, so a read-only one still takes it.
            Err(err) if err.kind() == io::ErrorKind::PermissionDenied => File::open(&path)?,
            opened => opened?,
        };
        match lock.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => return Ok(None),
            Err(std::fs::TryLockError::Error(err)) => return Err(err),
        }
        for folder in folders {
            remove_temporary_files(folder)?;
        }
        Ok(Some(Self { _lock: lock }))
    }
}

/// What a killed run left half-written below `dir` (never under a final name);
/// nothing when `dir` is not there.
pub(crate) fn remove_temporary_files(dir: &Path) -> io::Result<()> {
    for entry in walkdir::WalkDir::new(dir).follow_links(false) {
        let entry = match entry {
            Ok(entry) => entry,
            Err(err) if err.io_error().map(io::Error::kind) == Some(io::ErrorKind::NotFound) => {
                continue;
            }
            Err(err) => return Err(io::Error::other(err)),
        };
        let temporary = entry
            .file_name()
            .to_str()
            .is_some_and(|name| name.starts_with(TEMP_PREFIX));
        if temporary && entry.file_type().is_file() {
            std::fs::remove_file(entry.path())?;
        }
    }
    Ok(())
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

    #[test]
    fn a_folder_taken_loses_a_killed_runs_temporary_files_and_refuses_a_second_taker() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("results");
        let processed = dest.join("processed");
        std::fs::create_dir_all(processed.join("cats")).unwrap();
        let left = processed.join("cats").join(format!("{TEMP_PREFIX}x1"));
        std::fs::write(&left, b"half").unwrap();
        std::fs::write(processed.join("cats/a.jpg"), b"whole").unwrap();
        let elsewhere = dest.join("mine").join(format!("{TEMP_PREFIX}keep"));
        std::fs::create_dir_all(elsewhere.parent().unwrap()).unwrap();
        std::fs::write(&elsewhere, b"not ours").unwrap();

        let folders = [processed.clone(), dest.join("failed")];
        let held = FolderLock::take(&dest, &folders).unwrap();
        assert!(held.is_some());
        assert!(!left.exists(), "the killed run's temporary file stays");
        assert!(processed.join("cats/a.jpg").exists());
        assert!(elsewhere.exists(), "only the download's folders are tidied");

        // A second download's temporary file, while the first holds the folder.
        std::fs::write(&left, b"live").unwrap();
        assert!(FolderLock::take(&dest, &folders).unwrap().is_none());
        assert!(left.exists(), "a live download's file was removed");
        drop(held);
        assert!(FolderLock::take(&dest, &folders).unwrap().is_some());
        assert!(!left.exists());
    }
}
