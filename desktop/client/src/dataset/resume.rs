//! An export interrupted (cancelled, killed, a fault) continues where it
//! stopped: the folder holds a marker, `.augment-export.json`, with the
//! choices that decide the dataset, from the start of an export until its
//! manifest (written last, atomically) is in place. An export into a folder
//! with the marker and the same choices keeps the image files already there
//! whose size and SHA-256 match (and writes the rest); shards, the metadata
//! files and the manifest are rebuilt, so the result is the dataset one run
//! makes. A finished export has no marker: its folder is refused like any
//! folder that is not empty.

use std::collections::BTreeSet;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use serde_json::{Value, json};

use super::request::ExportRequest;
use crate::error::{ClientError, ErrorKind};
use crate::files::{Existing, remove_temporary_files, write_atomically};

/// The marker of an unfinished export, at its root.
pub const EXPORT_MARKER: &str = ".augment-export.json";

/// Whether this export started afresh or continues one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Start {
    Fresh,
    Resumed,
}

/// Folders an export's writer is writing in, in this process.
static BUSY: Mutex<BTreeSet<PathBuf>> = Mutex::new(BTreeSet::new());

/// How long an export waits for a stopped export's writer to let go of the
/// folder (it finishes the upload in hand, a few milliseconds).
const BUSY_WAIT: Duration = Duration::from_secs(10);

/// A folder held by one export's writer until dropped: a cancelled export
/// started again at once does not tidy up under its own stopping writer.
pub(crate) struct Busy(PathBuf);

impl Busy {
    pub(crate) async fn claim(dest: &Path) -> Result<Self, ClientError> {
        let deadline = tokio::time::Instant::now() + BUSY_WAIT;
        loop {
            if BUSY
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .insert(dest.to_owned())
            {
                return Ok(Self(dest.to_owned()));
            }
            if tokio::time::Instant::now() >= deadline {
                return Err(ClientError::new(
                    ErrorKind::InvalidSettings,
                    format!(
                        "Another export is writing into this folder. Wait for it to end, or choose another folder: {}",
                        dest.display()
                    ),
                ));
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        BUSY.lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&self.0);
    }
}

/// The choices that decide the dataset (not `jobs`: the export is the same
/// whatever the number of jobs).
fn choices(request: &ExportRequest) -> Value {
    json!({
        "v": 1,
        "format": format!("{:?}", request.format),
        "splits": format!("{:?}", request.splits),
        "seed": request.seed,
        "all_angles": request.all_angles,
        "label_depth": request.label_depth,
        "shard_bytes": request.shard_bytes,
        "name_prefix": request.name_prefix,
        "name_filter": request.name_filter.label(),
    })
}

/// The folder ready for this export: made if missing; a new or empty one
/// starts afresh, one with this request's marker resumes (its temporary files
/// from the interrupted run removed); anything else is refused.
pub(crate) fn prepare(request: &ExportRequest) -> Result<Start, ClientError> {
    let dest = &request.dest;
    std::fs::create_dir_all(dest)
        .map_err(|err| ClientError::io("Cannot make the export folder", dest, err))?;
    let marker = dest.join(EXPORT_MARKER);
    let wanted = choices(request);
    let start = match std::fs::read(&marker) {
        Ok(bytes) => {
            let recorded: Option<Value> = serde_json::from_slice(&bytes).ok();
            if recorded.as_ref() != Some(&wanted) {
                return Err(ClientError::new(
                    ErrorKind::InvalidSettings,
                    format!(
                        "The folder holds an unfinished export made with other choices. Export again with the same choices to finish it, or choose a new or empty folder: {}",
                        dest.display()
                    ),
                ));
            }
            remove_temporary_files(dest)
                .map_err(|err| ClientError::io("Cannot tidy the export folder", dest, err))?;
            Start::Resumed
        }
        Err(err) if err.kind() == io::ErrorKind::NotFound => {
            refuse_unless_empty(dest)?;
            Start::Fresh
        }
        Err(err) => {
            return Err(ClientError::io(
                "Cannot read the export folder",
                &marker,
                err,
            ));
        }
    };
    let text = serde_json::to_vec_pretty(&wanted).unwrap_or_default();
    write_atomically(&marker, &text, None, Existing::Replace)
        .map_err(|err| ClientError::io("Cannot write the export", &marker, err))?;
    Ok(start)
}

/// The export is whole: its marker goes.
pub(crate) fn finished(dest: &Path) -> Result<(), ClientError> {
    let marker = dest.join(EXPORT_MARKER);
    std::fs::remove_file(&marker)
        .map_err(|err| ClientError::io("Cannot finish the export", &marker, err))
}

fn refuse_unless_empty(dest: &Path) -> Result<(), ClientError> {
    let mut entries = std::fs::read_dir(dest)
        .map_err(|err| ClientError::io("Cannot read the export folder", dest, err))?;
    if entries.next().is_some() {
        return Err(ClientError::new(
            ErrorKind::InvalidSettings,
            format!(
                "The export folder is not empty. Choose a new or empty folder: {}",
                dest.display()
            ),
        ));
    }
    Ok(())
}
