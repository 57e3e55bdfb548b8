//! [`FolderStore`]: the object store port on a folder laid out like the bucket.

use std::io::{self, Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use augment_pipeline::contract::{KeyRules, UPLOAD_PREFIX};
use augment_pipeline::folder_names;
use augment_pipeline::ports::{
    Failure, ListPage, ListRequest, ObjectInfo, ObjectStore, PutObject, StoreError, StoreFuture,
};

use crate::key_path::key_path;
use crate::metadata;

/// Temporary files of in-flight writes start with this; `list` never shows them
/// (it starts with [`folder_names::STORE_FILE_PREFIX`], which no key names).
pub const TEMP_PREFIX: &str = ".augment-tmp-";

/// Chunk of a write between two progress reports and cancellation checks: small
/// enough for a smooth progress bar, large enough that a 10 MiB write is ~160.
const WRITE_CHUNK_BYTES: usize = 64 * 1024;

/// An object store in a folder: key `a/b.jpg` is the file `<root>/a/b.jpg`.
/// Writes go to a temporary file that is renamed into place, so a reader (the
/// desktop gallery, a second process) never sees half an image.
#[derive(Debug, Clone)]
pub struct FolderStore {
    root: PathBuf,
}

impl FolderStore {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The file that holds `key`: [`key_path`] below the root.
    pub fn path_of(&self, key: &str) -> Result<PathBuf, StoreError> {
        key_path(&self.root, key)
    }

    /// Copies a file from disk into the store at `key` (an "upload" in local
    /// mode), streaming, whatever its size: judging it is the processor's job.
    pub async fn import_file(&self, key: &str, source: &Path) -> Result<(), StoreError> {
        let target = self.path_of(key)?;
        let source = source.to_owned();
        blocking("import", key, move || {
            write_atomically(&target, |file| {
                io::copy(&mut std::fs::File::open(&source)?, file).map(drop)
            })
        })
        .await
    }

    /// The objects under the request's prefix after its cursor, in key order, at
    /// most `max_keys + 1` of them (one more than a page, so the caller knows
    /// whether there is a next page): the walk behind `list` and `list_page`.
    /// Folders are read in key order and a folder whose keys all sort at or
    /// before the cursor is not entered, so a page costs about its own size
    /// (plus one read of each folder on its path), not the whole prefix again.
    async fn find(&self, request: ListRequest<'_>) -> Result<Vec<ObjectInfo>, StoreError> {
        let root = self.root.clone();
        let prefix = request.prefix.to_owned();
        let cursor = request.cursor.map(str::to_owned);
        let wanted = request.max_keys.saturating_add(1);
        blocking("list", request.prefix, move || {
            // Walk only the deepest folder the prefix names (`processed/` of
            // `processed/ca`): listing one prefix must not read the whole bucket.
            let folder = prefix.rfind('/').map_or("", |slash| &prefix[..=slash]);
            let segments = folder.split('/').filter(|segment| !segment.is_empty());
            // No key has such a segment (`path_of` refuses them), and they could
            // leave the root.
            let escapes = segments
                .clone()
                .any(|segment| segment == "." || segment == "..");
            let start = segments.fold(root, |path, segment| {
                path.join(folder_names::escape(segment).as_ref())
            });
            let mut walk = Walk {
                prefix: &prefix,
                cursor: cursor.as_deref(),
                wanted,
                found: Vec::new(),
            };
            if !escapes && start.is_dir() {
                walk.folder(&start, folder)?;
            }
            Ok(walk.found)
        })
        .await
    }
}

impl ObjectStore for FolderStore {
    fn head<'a>(&'a self, key: &'a str) -> StoreFuture<'a, Option<ObjectInfo>> {
        Box::pin(async move {
            let path = self.path_of(key)?;
            let owned = key.to_owned();
            blocking("head", key, move || match std::fs::metadata(&path) {
                Ok(meta) if meta.is_file() => Ok(Some(ObjectInfo {
                    key: owned,
                    size_bytes: meta.len(),
                    last_modified: meta.modified().ok(),
                })),
                Ok(_) => Ok(None),
                Err(err) if err.kind() == io::ErrorKind::NotFound => Ok(None),
                Err(err) => Err(err),
            })
            .await
        })
    }

    fn get<'a>(&'a self, key: &'a str, max_bytes: u64) -> StoreFuture<'a, Vec<u8>> {
        Box::pin(async move {
            let path = self.path_of(key)?;
            let read = blocking("get", key, move || {
                let file = match std::fs::File::open(&path) {
                    Ok(file) => file,
                    Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(Read::Missing),
                    Err(err) => return Err(err),
                };
                // Sized from the file: an oversized one is refused before anything
                // is allocated, the rest read in one go. Still one byte past the
                // limit, as the file may grow in between.
                let len = file.metadata()?.len();
                if len > max_bytes {
                    return Ok(Read::TooLarge);
                }
                let mut bytes = Vec::with_capacity(usize::try_from(len + 1).unwrap_or(0));
                file.take(max_bytes.saturating_add(1))
                    .read_to_end(&mut bytes)?;
                Ok(if bytes.len() as u64 > max_bytes {
                    Read::TooLarge
                } else {
                    Read::Bytes(bytes)
                })
            })
            .await?;
            match read {
                Read::Bytes(bytes) => Ok(bytes),
                Read::Missing => Err(StoreError::NotFound {
                    key: key.to_owned(),
                }),
                Read::TooLarge => Err(StoreError::TooLarge {
                    key: key.to_owned(),
                    limit_bytes: max_bytes,
                }),
            }
        })
    }

    /// Written in chunks on a blocking thread, which a dropped future cannot stop:
    /// a flag set on drop stops it at the next chunk, and the temporary file goes.
    fn put(&self, object: PutObject) -> StoreFuture<'_, ()> {
        Box::pin(async move {
            let path = self.path_of(&object.key)?;
            let PutObject {
                key,
                body,
                on_sent,
                metadata,
                tags,
                ..
            } = object;
            // Only uploads keep their metadata and tags (the content hash the app
            // compares).
            // The folder is what people open, so the pipeline's outputs stay the
            // bucket's layout alone: their metadata (source key, S3 sequencer) has
            // no reader in local mode.
            let keeps_metadata = key.starts_with(UPLOAD_PREFIX);
            let cancelled = Arc::new(AtomicBool::new(false));
            let _cancel_on_drop = CancelOnDrop(cancelled.clone());
            blocking("put", &key, move || {
                // The metadata follows the whole object: a cancelled or failed
                // write leaves neither behind.
                let written = write_atomically(&path, |file| {
                    let report = |sent: usize| {
                        if let Some(on_sent) = &on_sent {
                            on_sent.report(sent as u64);
                        }
                    };
                    report(0);
                    let mut sent = 0;
                    for chunk in body.chunks(WRITE_CHUNK_BYTES) {
                        if cancelled.load(Ordering::Relaxed) {
                            return Err(io::Error::new(
                                io::ErrorKind::Interrupted,
                                "the write was cancelled",
                            ));
                        }
                        file.write_all(chunk)?;
                        sent += chunk.len();
                        report(sent);
                    }
                    Ok(())
                });
                written.and_then(|()| {
                    if keeps_metadata {
                        metadata::write(&path, &metadata, &tags)
                    } else {
                        Ok(())
                    }
                })
            })
            .await
        })
    }

    fn list_page<'a>(&'a self, request: ListRequest<'a>) -> StoreFuture<'a, ListPage> {
        Box::pin(async move { Ok(request.page_of(self.find(request).await?)) })
    }

    fn list<'a>(&'a self, prefix: &'a str) -> StoreFuture<'a, Vec<ObjectInfo>> {
        Box::pin(self.find(ListRequest::new(prefix, None, usize::MAX)))
    }

    /// File-name components of at most 255 bytes; local mode keeps no order
    /// between uploads of one key (see `LocalPipeline`).
    fn key_rules(&self) -> KeyRules {
        KeyRules::FOLDER
    }

    fn delete<'a>(&'a self, key: &'a str) -> StoreFuture<'a, ()> {
        Box::pin(async move {
            let path = self.path_of(key)?;
            blocking("delete", key, move || {
                metadata::remove(&path)?;
                match std::fs::remove_file(&path) {
                    Err(err) if err.kind() != io::ErrorKind::NotFound => Err(err),
                    _ => Ok(()),
                }
            })
            .await
        })
    }

    fn head_metadata<'a>(&'a self, key: &'a str) -> StoreFuture<'a, Option<Vec<(String, String)>>> {
        Box::pin(async move {
            let path = self.path_of(key)?;
            blocking("head", key, move || metadata::read(&path, false)).await
        })
    }

    fn object_tags<'a>(&'a self, key: &'a str) -> StoreFuture<'a, Option<Vec<(String, String)>>> {
        Box::pin(async move {
            let path = self.path_of(key)?;
            blocking("tagging", key, move || metadata::read(&path, true)).await
        })
    }
}

/// Sets the flag when a write's future is dropped (the write then stops).
struct CancelOnDrop(Arc<AtomicBool>);

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

/// Runs file work off the async threads; maps I/O failures to store errors.
async fn blocking<T: Send + 'static>(
    op: &'static str,
    key: &str,
    work: impl FnOnce() -> io::Result<T> + Send + 'static,
) -> Result<T, StoreError> {
    let backend = |source: Box<dyn std::error::Error + Send + Sync>| StoreError::Backend {
        op,
        key: key.to_owned(),
        failure: Failure::Other,
        transient: false,
        source,
    };
    match tokio::task::spawn_blocking(work).await {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(err)) => Err(backend(err.into())),
        Err(join) => Err(backend(join.into())),
    }
}

/// What a bounded read of one object found.
enum Read {
    Bytes(Vec<u8>),
    Missing,
    TooLarge,
}

/// A temporary file in `path`'s folder (made as needed), named with
/// [`TEMP_PREFIX`] so no listing of a data folder shows it: how a file is
/// written whole, then renamed into place (also by the client's downloads and
/// exports).
pub fn temp_file_beside(path: &Path) -> io::Result<tempfile::NamedTempFile> {
    let dir = path.parent().ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            "the path names no file in a folder",
        )
    })?;
    std::fs::create_dir_all(dir)?;
    tempfile::Builder::new()
        .prefix(TEMP_PREFIX)
        .tempfile_in(dir)
}

fn write_atomically(
    path: &Path,
    write: impl FnOnce(&mut std::fs::File) -> io::Result<()>,
) -> io::Result<()> {
    let mut temp = temp_file_beside(path)?;
    write(temp.as_file_mut())?;
    temp.persist(path).map_err(|err| err.error)?;
    Ok(())
}

/// One listing's walk: the keys under `prefix` after `cursor`, in key order,
/// until `wanted` are found.
struct Walk<'a> {
    prefix: &'a str,
    cursor: Option<&'a str>,
    wanted: usize,
    found: Vec<ObjectInfo>,
}

impl Walk<'_> {
    /// Reads `dir` (whose keys start with `key_prefix`) in key order; `false`
    /// once enough keys are found.
    fn folder(&mut self, dir: &Path, key_prefix: &str) -> io::Result<bool> {
        let mut entries = Vec::new();
        for entry in std::fs::read_dir(dir)? {
            let entry = entry?;
            // Only names the store makes are keys: not the store's own temporary
            // and metadata files (`.augment-…`, which a key's part never names
            // unescaped), nor a file `key_path` would not find again.
            let Some(name) = entry.file_name().to_str().and_then(folder_names::unescape) else {
                continue;
            };
            let file_type = entry.file_type()?;
            // A folder's keys are `name/…`: it sorts as `name/` among the files.
            let key = if file_type.is_dir() {
                format!("{key_prefix}{name}/")
            } else if file_type.is_file() {
                format!("{key_prefix}{name}")
            } else {
                continue;
            };
            entries.push((key, entry));
        }
        entries.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        for (key, entry) in entries {
            let more = if key.ends_with('/') {
                self.skips_folder(&key) || self.folder(&entry.path(), &key)?
            } else {
                self.file(key, &entry)?
            };
            if !more {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// Keeps the file when it is listed; `false` once enough keys are found.
    fn file(&mut self, key: String, entry: &std::fs::DirEntry) -> io::Result<bool> {
        let after_cursor = self.cursor.is_none_or(|cursor| key.as_str() > cursor);
        if key.starts_with(self.prefix) && after_cursor {
            let meta = entry.metadata()?;
            self.found.push(ObjectInfo {
                key,
                size_bytes: meta.len(),
                last_modified: meta.modified().ok(),
            });
        }
        Ok(self.found.len() < self.wanted)
    }

    /// Whether no key under the folder `folder_key` (ending in `/`) can be listed:
    /// none can start with the prefix, or all sort at or before the cursor.
    fn skips_folder(&self, folder_key: &str) -> bool {
        let outside = !folder_key.starts_with(self.prefix) && !self.prefix.starts_with(folder_key);
        let passed = self
            .cursor
            .is_some_and(|cursor| cursor > folder_key && !cursor.starts_with(folder_key));
        outside || passed
    }
}
