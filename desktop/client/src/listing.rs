//! The gallery's listings: processed images and rejected uploads, page by page.

use std::time::SystemTime;

use augment_pipeline::contract::{FAILED_PREFIX, PROCESSED_PREFIX};
use augment_pipeline::limits::MAX_FAILED_RECORD_BYTES;
use augment_pipeline::{ListPage, ListRequest, UploadKey, Verdict};

use crate::error::{ClientError, ErrorKind};
use crate::remote::Remote;

/// Images per page of [`Remote::list_images`] (S3's `ListObjectsV2` returns at
/// most 1,000; a gallery screen shows far fewer).
pub const PAGE_SIZE: usize = 200;
/// Failed records [`Remote::list_rejected`] reads at once (each is its own GET).
const PARALLEL_RECORD_READS: usize = 16;

/// One processed image in the bucket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageEntry {
    /// `<name>` of the bucket contract (may hold `/`).
    pub name: String,
    /// `processed/<name>_256x256.jpg`
    pub processed_key: String,
    pub size_bytes: u64,
    pub last_modified: Option<SystemTime>,
}

/// One page of a listing ([`Remote::list_images`], [`Remote::list_rejected`]);
/// pass `next` back for the following page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next: Option<String>,
}

/// One upload the pipeline rejected, read from its `failed/` record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RejectedEntry {
    /// `<name>` of the bucket contract, as for [`ImageEntry::name`]:
    /// [`Remote::delete_image`] of it removes the original and the record.
    pub name: String,
    /// `failed/<name>.json` (or its short form for a long name).
    pub failed_key: String,
    /// `too_large`, `corrupt`…: the record's code.
    pub code: String,
    /// Why, for people.
    pub message: String,
    pub last_modified: Option<SystemTime>,
}

impl Remote {
    /// One page of [`PAGE_SIZE`] keys under `prefix`, from `cursor` on.
    async fn page_of(&self, prefix: &str, cursor: Option<&str>) -> Result<ListPage, ClientError> {
        self.inner
            .store
            .list_page(ListRequest::new(prefix, cursor, PAGE_SIZE))
            .await
            .map_err(|err| self.error(err))
    }

    /// One page of processed images, sorted by key; `cursor` is the previous
    /// page's `next`.
    /// (Entries of `processed/` that are not a processed image are left out, so a
    /// page can hold fewer than [`PAGE_SIZE`].)
    pub async fn list_images(
        &self,
        cursor: Option<String>,
    ) -> Result<Page<ImageEntry>, ClientError> {
        let page = self.page_of(PROCESSED_PREFIX, cursor.as_deref()).await?;
        let items = page
            .objects
            .into_iter()
            .filter_map(|info| {
                Some(ImageEntry {
                    name: name_of_processed(&info.key)?,
                    processed_key: info.key,
                    size_bytes: info.size_bytes,
                    last_modified: info.last_modified,
                })
            })
            .collect();
        Ok(Page {
            items,
            next: page.next,
        })
    }

    /// One page of the uploads the pipeline rejected, by record key; `cursor` is
    /// the previous page's `next`. Each record is read (at most
    /// [`MAX_FAILED_RECORD_BYTES`], [`PARALLEL_RECORD_READS`] at a time) and
    /// trusted only as far as the bucket's layout: a record whose `source_key`
    /// is not an upload whose failed key is this one is left out, so no record
    /// can name, and get deleted, an image it is not about. A record deleted
    /// meanwhile is left out too.
    pub async fn list_rejected(
        &self,
        cursor: Option<String>,
    ) -> Result<Page<RejectedEntry>, ClientError> {
        let page = self.page_of(FAILED_PREFIX, cursor.as_deref()).await?;
        let mut items = Vec::new();
        for chunk in page.objects.chunks(PARALLEL_RECORD_READS) {
            let mut reads = tokio::task::JoinSet::new();
            for info in chunk {
                let remote = self.clone();
                let info = info.clone();
                reads.spawn(async move {
                    let bytes = match remote.get(&info.key, MAX_FAILED_RECORD_BYTES).await {
                        Ok(bytes) => bytes,
                        Err(err) if err.kind == ErrorKind::NotFound => return Ok(None),
                        Err(err) => return Err(err),
                    };
                    Ok(rejected_entry(&info.key, &bytes, info.last_modified))
                });
            }
            while let Some(read) = reads.join_next().await {
                let read = read.map_err(|err| {
                    ClientError::new(ErrorKind::Other, format!("reading a failed record: {err}"))
                })?;
                items.extend(read?);
            }
        }
        items.sort_by(|a: &RejectedEntry, b| a.failed_key.cmp(&b.failed_key));
        Ok(Page {
            items,
            next: page.next,
        })
    }
}

/// The entry a `failed/` record at `key` stands for, if it is one the pipeline
/// could have written there (see [`Remote::list_rejected`]).
pub(crate) fn rejected_entry(
    key: &str,
    bytes: &[u8],
    last_modified: Option<SystemTime>,
) -> Option<RejectedEntry> {
    let record = Verdict::parse(bytes)?;
    let upload = UploadKey::parse(&record.source_key).ok()?;
    (upload.failed_key() == key).then(|| RejectedEntry {
        name: upload.name().to_owned(),
        failed_key: key.to_owned(),
        code: record.code,
        message: record.message,
        last_modified,
    })
}

/// `<name>` of a processed key, or `None` for anything else in `processed/`.
pub(crate) fn name_of_processed(key: &str) -> Option<String> {
    UploadKey::from_processed_key(key).map(|upload| upload.name().to_owned())
}
