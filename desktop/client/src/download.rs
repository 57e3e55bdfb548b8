//! `augment download`: what the pipeline made (and, on request, the originals and
//! the failed records) from the bucket or the data folder into a local folder,
//! in the bucket's layout, as the original guide's `aws s3 sync` step did.
//!
//! Incremental by `aws s3 sync`'s rule: an object is fetched unless the folder
//! has a file of the same size that is not older than the object (each file
//! written gets the object's modification time), so a second run fetches only
//! what is new or changed, and an interrupted run continues where it stopped.
//! No state file: the folder is the state. Every file lands whole or not at all
//! ([`crate::files`]), by the folder store's one key → path rule
//! ([`augment_local::key_path`]: no key can write outside the folder). The
//! listing is walked page by page, ahead of the fetches, with at most `jobs`
//! objects in flight, so memory stays flat in the number of objects.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use augment_local::key_path;
use augment_pipeline::ObjectInfo;
use augment_pipeline::contract::{FAILED_PREFIX, PROCESSED_PREFIX, UPLOAD_PREFIX};
use augment_pipeline::limits::{MAX_OUTPUT_BYTES, MAX_TRANSFER_JOBS, MAX_UPLOAD_BYTES};
use augment_pipeline::outputs::{BucketKey, Output};
use tokio::sync::mpsc;
use tokio::task::JoinSet;

use crate::files::{Existing, FolderLock, write_atomically};
use crate::pages::{NameFilter, Pages};
use augment_pipeline::limits::MAX_FAILED_RECORD_BYTES;

use crate::adaptive::Concurrency;
use crate::error::{ClientError, ErrorKind};
use crate::remote::Remote;

/// Objects fetched at once by default: `None`, adaptive as uploads are
/// ([`Concurrency`]: [`augment_pipeline::limits::START_TRANSFER_JOBS`] to start,
/// more while no fetch needs a retry, half after one, at most
/// [`augment_pipeline::limits::MAX_TRANSFER_JOBS`]).
pub const DOWNLOAD_JOBS: Option<usize> = None;

/// Listing pages read ahead of the fetches: the next page is asked for while
/// this one's objects are fetched, and memory stays flat (a page is at most
/// [`crate::LIST_PAGE_KEYS`] objects).
const PAGES_AHEAD: usize = 2;

/// The download's first listing page: enough objects to fill the most
/// transfers at once, so the fetches start while the first full page is listed.
const FIRST_PAGE_KEYS: usize = MAX_TRANSFER_JOBS;

/// A listing page of one area, filtered; or the error that ended the listing.
type ListedPage = Result<(Area, Vec<ObjectInfo>), ClientError>;

/// How much older than the object a file of the same size may look and still
/// count as up to date: FAT keeps modification times to 2 s.
const MTIME_SLACK: Duration = Duration::from_secs(2);

/// A part of the bucket's layout.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Area {
    /// `processed/`: the images on the 256×256 canvas.
    Processed,
    /// `augmented-images/`: the four rotations.
    Augmented,
    /// `original-uploads/`: what people uploaded.
    Originals,
    /// `failed/`: why uploads were rejected.
    Failed,
}

impl Area {
    /// What `augment download` fetches by default: the pipeline's results.
    pub const RESULTS: [Self; 2] = [Self::Processed, Self::Augmented];
    pub const ALL: [Self; 4] = [
        Self::Processed,
        Self::Augmented,
        Self::Originals,
        Self::Failed,
    ];

    /// The area's folder in the bucket, as `--only` names it.
    pub fn name(self) -> &'static str {
        match self {
            Self::Processed => "processed",
            Self::Augmented => "augmented-images",
            Self::Originals => "original-uploads",
            Self::Failed => "failed",
        }
    }

    /// The area `name` names (with or without its trailing `/`).
    pub fn parse(name: &str) -> Option<Self> {
        let name = name.trim_end_matches('/');
        Self::ALL.into_iter().find(|area| area.name() == name)
    }

    /// The key prefixes of this area's objects whose `<name>` starts with
    /// `name_prefix` (the rotations' names sit below one folder per angle).
    pub fn prefixes(self, name_prefix: &str) -> Vec<String> {
        let within = |prefix: &str| format!("{prefix}{name_prefix}");
        match self {
            Self::Processed => vec![within(PROCESSED_PREFIX)],
            Self::Augmented => Output::ROTATIONS
                .iter()
                .map(|output| within(output.prefix()))
                .collect(),
            Self::Originals => vec![within(UPLOAD_PREFIX)],
            Self::Failed => vec![within(FAILED_PREFIX)],
        }
    }

    /// The largest object read from this area: what the pipeline writes there.
    fn max_bytes(self) -> u64 {
        match self {
            Self::Processed | Self::Augmented => MAX_OUTPUT_BYTES,
            Self::Originals => MAX_UPLOAD_BYTES,
            Self::Failed => MAX_FAILED_RECORD_BYTES,
        }
    }
}

/// What to download, and where.
#[derive(Debug, Clone)]
pub struct DownloadRequest {
    /// The folder the bucket's layout is written into (made if missing).
    pub dest: PathBuf,
    /// Which parts of the bucket, in this order.
    pub areas: Vec<Area>,
    /// Only names that start with this (`cats/` for one class folder).
    pub name_prefix: String,
    /// Only the uploads it lets through (the app's gallery filter).
    pub name_filter: NameFilter,
    /// Objects fetched at once: `Some(n)` exactly `n`; `None` adaptive
    /// ([`DOWNLOAD_JOBS`]).
    pub jobs: Option<usize>,
}

/// What happened to one object, or to the listing, as it happens.
#[derive(Debug, Clone)]
pub enum DownloadEvent {
    /// A listing page: this many more objects, of this many bytes, to look at.
    Listed { objects: u64, bytes: u64 },
    /// Fetched and written.
    Fetched { key: String, bytes: u64 },
    /// The folder already has it.
    UpToDate { key: String, bytes: u64 },
    /// Deleted from the bucket after it was listed: nothing to fetch.
    Gone { key: String },
    /// Not fetched; the others go on.
    Failed { key: String, error: ClientError },
}

/// The totals of a download.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DownloadSummary {
    pub fetched: u64,
    pub fetched_bytes: u64,
    pub up_to_date: u64,
    pub gone: u64,
    pub failed: u64,
}

impl DownloadSummary {
    fn count(&mut self, event: &DownloadEvent) {
        match event {
            DownloadEvent::Listed { .. } => {}
            DownloadEvent::Fetched { bytes, .. } => {
                self.fetched += 1;
                self.fetched_bytes += bytes;
            }
            DownloadEvent::UpToDate { .. } => self.up_to_date += 1,
            DownloadEvent::Gone { .. } => self.gone += 1,
            DownloadEvent::Failed { .. } => self.failed += 1,
        }
    }
}

/// "480 fetched (2.1 MiB), 20 up to date, 1 failed": what the CLI prints and
/// the app reports.
impl std::fmt::Display for DownloadSummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} fetched ({}), {} up to date",
            self.fetched,
            augment_pipeline::reject::format_bytes(self.fetched_bytes),
            self.up_to_date
        )?;
        if self.failed > 0 {
            write!(f, ", {} failed", self.failed)?;
        }
        Ok(())
    }
}

impl Remote {
    /// Downloads the request's areas into its folder, calling `on_event` as each
    /// object is done. The listing runs ahead of the fetches (at most
    /// [`PAGES_AHEAD`] pages), so no fetch waits on a listing's round trip; each
    /// object is one `GetObject` (none when the folder is up to date), with at
    /// most `jobs` in flight ([`Concurrency`]: adaptive as uploads are, unless
    /// fixed). A failed object is reported and the others go on; a listing that
    /// fails (after its retries) ends the download with that error.
    pub async fn download(
        &self,
        request: &DownloadRequest,
        mut on_event: impl FnMut(&DownloadEvent),
    ) -> Result<DownloadSummary, ClientError> {
        let _held = self.take_folder(request).await?;
        let jobs = Concurrency::new(request.jobs);
        let (pages_tx, mut pages) = mpsc::channel(PAGES_AHEAD);
        // A JoinSet, so the listing stops with the download (dropped, it aborts).
        let mut listing = JoinSet::new();
        listing.spawn(self.clone().list_into(request.clone(), pages_tx));
        let mut summary = DownloadSummary::default();
        let mut report = |event: DownloadEvent| {
            summary.count(&event);
            on_event(&event);
        };
        let mut running = JoinSet::new();
        while let Some(page) = pages.recv().await {
            let (area, objects) = page?;
            report(DownloadEvent::Listed {
                objects: objects.len() as u64,
                bytes: objects.iter().map(|info| info.size_bytes).sum(),
            });
            for info in objects {
                // Events of the fetches that ended are reported while waiting.
                let slot = loop {
                    tokio::select! {
                        biased;
                        Some(joined) = running.join_next() => report(ended(joined)),
                        slot = jobs.acquire() => break slot,
                    }
                };
                let Some(slot) = slot else { break };
                let (remote, dest) = (self.clone(), request.dest.clone());
                running.spawn(async move {
                    let retried = remote.retried();
                    let event = remote.fetch_one(&dest, info, area.max_bytes()).await;
                    // A retry on the way is the link's sign to fetch fewer at once.
                    slot.finish(remote.retried() > retried);
                    event
                });
            }
        }
        while let Some(joined) = running.join_next().await {
            report(ended(joined));
        }
        Ok(summary)
    }

    /// The request's folder, held for this download ([`FolderLock`]: a killed
    /// run's temporary files in its areas' folders removed), or the error that
    /// another download is writing there.
    async fn take_folder(&self, request: &DownloadRequest) -> Result<FolderLock, ClientError> {
        let dest = request.dest.clone();
        let folders: Vec<PathBuf> = request
            .areas
            .iter()
            .flat_map(|area| area.prefixes(""))
            .filter_map(|prefix| key_path(&dest, prefix.trim_end_matches('/')).ok())
            .collect();
        let taken = tokio::task::spawn_blocking(move || {
            FolderLock::take(&dest, &folders)
                .map_err(|err| ClientError::io("Cannot prepare the download folder", &dest, err))
        })
        .await
        .map_err(|err| {
            ClientError::new(ErrorKind::Other, format!("a download stopped: {err}"))
        })??;
        taken.ok_or_else(|| {
            ClientError::invalid_settings(format!(
                "Another download is writing into this folder. Wait for it to end, or choose another folder: {}",
                request.dest.display()
            ))
        })
    }

    /// Walks the request's areas page by page into `pages`, each page filtered;
    /// stops at the first listing error (sent on) or when nobody listens.
    async fn list_into(self, request: DownloadRequest, pages: mpsc::Sender<ListedPage>) {
        let mut first = true;
        for area in request.areas {
            for prefix in area.prefixes(&request.name_prefix) {
                let mut walk = Pages::new(prefix);
                if std::mem::take(&mut first) {
                    // The first fetches start after a short page, not a full one.
                    walk = walk.short_first(FIRST_PAGE_KEYS);
                }
                loop {
                    let page = match walk.next(&self).await {
                        Ok(Some(objects)) => Ok((
                            area,
                            objects
                                .into_iter()
                                .filter(|info| key_matches(&request.name_filter, &info.key))
                                .collect(),
                        )),
                        Ok(None) => break,
                        Err(err) => Err(err),
                    };
                    let failed = page.is_err();
                    if pages.send(page).await.is_err() || failed {
                        return;
                    }
                }
            }
        }
    }

    /// One object into `dest`, unless the folder already has it.
    async fn fetch_one(&self, dest: &Path, info: ObjectInfo, max_bytes: u64) -> DownloadEvent {
        let ObjectInfo {
            key,
            size_bytes,
            last_modified,
        } = info;
        let path = match key_path(dest, &key) {
            Ok(path) => path,
            Err(err) => {
                return DownloadEvent::Failed {
                    error: ClientError::from_store(err),
                    key,
                };
            }
        };
        let checked = path.clone();
        let current =
            tokio::task::spawn_blocking(move || is_up_to_date(&checked, size_bytes, last_modified))
                .await
                .unwrap_or(false);
        if current {
            return DownloadEvent::UpToDate {
                key,
                bytes: size_bytes,
            };
        }
        let body = match self.get(&key, max_bytes).await {
            Ok(body) => body,
            Err(err) if err.kind == ErrorKind::NotFound => return DownloadEvent::Gone { key },
            Err(error) => return DownloadEvent::Failed { key, error },
        };
        let bytes = body.len() as u64;
        let written = tokio::task::spawn_blocking(move || {
            write_atomically(&path, &body, last_modified, Existing::Replace)
                .map_err(|err| ClientError::io("Cannot write the downloaded file", &path, err))
        })
        .await
        .map_err(|err| ClientError::new(ErrorKind::Other, format!("a write stopped: {err}")))
        .and_then(|written| written);
        match written {
            Ok(()) => DownloadEvent::Fetched { key, bytes },
            Err(error) => DownloadEvent::Failed { key, error },
        }
    }
}

/// A fetch's event, or the failure of a task that stopped without one.
fn ended(joined: Result<DownloadEvent, tokio::task::JoinError>) -> DownloadEvent {
    joined.unwrap_or_else(|err| DownloadEvent::Failed {
        key: String::new(),
        error: ClientError::new(ErrorKind::Other, format!("a download task stopped: {err}")),
    })
}

/// Whether the filter takes the upload `key` belongs to (a key that names no
/// upload, such as a long name's short `failed/` record, only when it takes all).
fn key_matches(filter: &NameFilter, key: &str) -> bool {
    let name = match BucketKey::parse(key) {
        BucketKey::Upload(upload) => return filter.matches(upload.name()),
        BucketKey::Output { name, .. } | BucketKey::Failed { name: Some(name) } => Some(name),
        BucketKey::Failed { name: None } | BucketKey::Other => None,
    };
    name.map_or_else(|| filter.is_all(), |name| filter.matches(name))
}

/// `aws s3 sync`'s rule: the file has the object's size and is not older than
/// it (give or take [`MTIME_SLACK`]). Without the object's time, never.
fn is_up_to_date(path: &Path, size_bytes: u64, last_modified: Option<SystemTime>) -> bool {
    let (Some(remote), Ok(local)) = (last_modified, std::fs::metadata(path)) else {
        return false;
    };
    let Ok(local_modified) = local.modified() else {
        return false;
    };
    local.is_file() && local.len() == size_bytes && local_modified + MTIME_SLACK >= remote
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn areas_name_their_prefixes_and_parse_back() {
        for area in Area::ALL {
            assert_eq!(Area::parse(area.name()), Some(area));
            assert_eq!(Area::parse(&format!("{}/", area.name())), Some(area));
        }
        assert_eq!(Area::parse("augmented"), None);
        assert_eq!(Area::Processed.prefixes("cats/"), ["processed/cats/"]);
        assert_eq!(
            Area::Augmented.prefixes("cats/"),
            [
                "augmented-images/90-degree/cats/",
                "augmented-images/180-degree/cats/",
                "augmented-images/270-degree/cats/",
                "augmented-images/360-degree/cats/",
            ]
        );
    }

    #[test]
    fn a_file_is_current_when_as_large_and_not_older() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.jpg");
        let then = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        write_atomically(&path, b"12345", Some(then), Existing::Replace).unwrap();
        assert!(is_up_to_date(&path, 5, Some(then)));
        assert!(is_up_to_date(&path, 5, Some(then + Duration::from_secs(1))));
        assert!(!is_up_to_date(&path, 6, Some(then)), "another size");
        assert!(
            !is_up_to_date(&path, 5, Some(then + Duration::from_secs(60))),
            "the object was written again since"
        );
        assert!(!is_up_to_date(&path, 5, None));
        assert!(!is_up_to_date(&dir.path().join("missing"), 5, Some(then)));
    }
}
