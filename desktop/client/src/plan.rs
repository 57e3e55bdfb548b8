//! What a batch of uploads needs to know about the bucket, learned once: the
//! names already taken (by an original of any extension, a processed image or a
//! failed record) and the size of each original, from listing pages of 1,000 keys
//! under the batch's common name prefix, instead of a list and two `HEAD`s per
//! file. A new file then costs its one `PutObject` (conditional, so a writer that
//! takes the name after the listing is still never overwritten: see
//! [`Remote::upload`]).
//!
//! The duplicate question needs no request for a new name either: only an
//! original under the same name *and of the same size* can hold the same bytes,
//! and only those have their hash tag read (one `GetObjectTagging` each).
//!
//! A listing is worth it only while it costs less than asking per name: past
//! [`LIST_PAGES_PER_FILE`] pages per file of the batch the plan stops listing
//! and answers every question the per-name way, as before.

use std::collections::{HashMap, HashSet};

use augment_pipeline::contract::{FAILED_PREFIX, UPLOAD_PREFIX, is_upload_extension};
use augment_pipeline::limits::FAILED_KEY_NAME_BYTES;
use augment_pipeline::{BucketKey, ListRequest, ObjectInfo, Output, UploadKey};

use crate::dedupe::SHA256_METADATA;
use crate::error::ClientError;
use crate::lock::lock;
use crate::names::{split_file_name, upload_key_for};
use crate::pages::LIST_PAGE_KEYS;
use crate::remote::Remote;
use crate::retry::{self, RETRY_BUDGET};

/// Listing pages a plan may read per file of its batch before it gives up and
/// asks per name (3 requests a file): never more than the old way cost.
pub const LIST_PAGES_PER_FILE: usize = 3;

/// The bucket as one batch of uploads sees it; made by [`Remote::plan_uploads`].
#[derive(Debug)]
pub struct UploadPlan {
    remote: Remote,
    /// What the listing found, or `None` when it was not worth it (or nothing
    /// was to be learned): then every question goes to the store per name.
    known: Option<Known>,
}

#[derive(Debug, Default)]
struct Known {
    /// The listed names start with this: a name that does not is asked per name.
    covers: String,
    /// Names taken by any output or failed record, and failed keys (a long
    /// name's record has a short key that only the key itself matches).
    taken: std::sync::Mutex<HashSet<String>>,
    failed_keys: HashSet<String>,
    /// Originals by name: `(key, size)`.
    originals: HashMap<String, Vec<(String, u64)>>,
}

impl Remote {
    /// Learns what the batch of `file_names` (names or relative paths, as
    /// [`Remote::choose_upload_key`] takes them) needs to know about the bucket:
    /// a few listing pages, or nothing (see the module's doc). Retries a
    /// transient error within [`RETRY_BUDGET`].
    pub async fn plan_uploads<'a>(
        &self,
        file_names: impl IntoIterator<Item = &'a str>,
    ) -> Result<UploadPlan, ClientError> {
        let names: Vec<String> = file_names
            .into_iter()
            .filter_map(|file| split_file_name(file).ok().map(|(stem, _)| stem))
            .collect();
        let budget = names.len().saturating_mul(LIST_PAGES_PER_FILE);
        let known = match common_prefix(&names) {
            _ if names.is_empty() || self.inner.local.is_some() => None,
            covers => {
                let deadline = tokio::time::Instant::now() + RETRY_BUDGET;
                retry::until(deadline, &self.inner.retried, || self.learn(covers, budget)).await?
            }
        };
        Ok(UploadPlan {
            remote: self.clone(),
            known,
        })
    }

    /// Lists the originals, processed images and failed records under `covers`,
    /// within `budget` pages in all; `None` when that is not enough.
    async fn learn(&self, covers: &str, budget: usize) -> Result<Option<Known>, ClientError> {
        let failed_cut = floor_char_boundary(covers, FAILED_KEY_NAME_BYTES / 2);
        let prefixes = [
            format!("{UPLOAD_PREFIX}{covers}"),
            format!("{}{covers}", Output::Processed.prefix()),
            format!("{FAILED_PREFIX}{}", &covers[..failed_cut]),
        ];
        let mut known = Known {
            covers: covers.to_owned(),
            ..Known::default()
        };
        let mut pages = Pages::new(budget);
        for prefix in &prefixes {
            let Some(listed) = self.list_within(prefix, &mut pages).await? else {
                return Ok(None);
            };
            for object in listed {
                known.note(object.key, object.size_bytes);
            }
        }
        Ok(Some(known))
    }
}

impl Known {
    fn note(&mut self, key: String, size_bytes: u64) {
        let taken = self
            .taken
            .get_mut()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        match BucketKey::parse(&key) {
            BucketKey::Upload(upload) if upload.extension().is_some_and(is_upload_extension) => {
                taken.insert(upload.name().to_owned());
                self.originals
                    .entry(upload.name().to_owned())
                    .or_default()
                    .push((key, size_bytes));
            }
            BucketKey::Output { name, .. } => {
                taken.insert(name.to_owned());
            }
            BucketKey::Failed { .. } => {
                self.failed_keys.insert(key);
            }
            BucketKey::Upload(_) | BucketKey::Other => {}
        }
    }

    fn is_taken(&self, name: &str) -> Result<bool, ClientError> {
        Ok(lock(&self.taken).contains(name)
            || self
                .failed_keys
                .contains(&upload_key_for(name)?.failed_key()))
    }
}

impl UploadPlan {
    /// [`Remote::choose_upload_key`], answered from the listing: no request for
    /// a name it covers. The name is taken for the rest of the batch.
    pub async fn choose_upload_key(&self, file_name: &str) -> Result<UploadKey, ClientError> {
        let Some(known) = &self.known else {
            return self.remote.choose_upload_key(file_name).await;
        };
        let (stem, _) = split_file_name(file_name)?;
        if !stem.starts_with(&known.covers) {
            return self.remote.choose_upload_key(file_name).await;
        }
        let key = self
            .remote
            .choose_key_with(file_name, |name| async move { known.is_taken(&name) })
            .await?;
        lock(&known.taken).insert(key.name().to_owned());
        self.remote.set_deadline(&key);
        Ok(key)
    }

    /// [`Remote::uploaded_copy`] for a file of `size_bytes`: only an original of
    /// that size under the name can be a copy, and only those are asked for
    /// their hash (none, for a new name).
    pub async fn uploaded_copy(
        &self,
        file_name: &str,
        sha256: &str,
        size_bytes: u64,
    ) -> Result<Option<String>, ClientError> {
        let Some(known) = &self.known else {
            return self.remote.uploaded_copy(file_name, sha256).await;
        };
        let (stem, _) = split_file_name(file_name)?;
        if !stem.starts_with(&known.covers) {
            return self.remote.uploaded_copy(file_name, sha256).await;
        }
        let same_size = known
            .originals
            .get(&stem)
            .into_iter()
            .flatten()
            .filter(|(_, size)| *size == size_bytes);
        for (key, _) in same_size {
            if self.remote.has_hash(key, sha256).await? {
                return Ok(Some(key.clone()));
            }
        }
        Ok(None)
    }

    /// Whether the plan learned the bucket from a listing (for tests and logs).
    pub fn listed(&self) -> bool {
        self.known.is_some()
    }
}

impl Remote {
    /// Whether the object at `key` carries `sha256` as its hash tag (one
    /// `GetObjectTagging`, retried within [`RETRY_BUDGET`]).
    pub(crate) async fn has_hash(&self, key: &str, sha256: &str) -> Result<bool, ClientError> {
        let deadline = tokio::time::Instant::now() + RETRY_BUDGET;
        retry::until(deadline, &self.inner.retried, || async {
            let tags = self.ask(self.store().object_tags(key)).await?;
            Ok(tags.is_some_and(|tags| {
                tags.iter()
                    .any(|(name, value)| name == SHA256_METADATA && value == sha256)
            }))
        })
        .await
    }
}

/// Listing pages left to read before a listing stops being worth it.
pub(crate) struct Pages {
    left: usize,
}

impl Pages {
    /// At least one page, whatever the budget.
    pub(crate) fn new(budget: usize) -> Self {
        Self {
            left: budget.max(1),
        }
    }
}

impl Remote {
    /// Everything under `prefix`, page by page (1,000 keys each), or `None` once
    /// `pages` is spent.
    pub(crate) async fn list_within(
        &self,
        prefix: &str,
        pages: &mut Pages,
    ) -> Result<Option<Vec<ObjectInfo>>, ClientError> {
        let mut found = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let Some(left) = pages.left.checked_sub(1) else {
                return Ok(None);
            };
            pages.left = left;
            let request = ListRequest::new(prefix, cursor.as_deref(), LIST_PAGE_KEYS);
            let page = self.inner.store.list_page(request).await;
            let page = page.map_err(|err| self.error(err))?;
            found.extend(page.objects);
            match page.next {
                Some(next) => cursor = Some(next),
                None => return Ok(Some(found)),
            }
        }
    }
}

/// The longest common prefix of `names`, cut at a character boundary.
pub(crate) fn common_prefix(names: &[String]) -> &str {
    let Some(first) = names.first() else {
        return "";
    };
    let mut len = first.len();
    for name in &names[1..] {
        len = first
            .bytes()
            .zip(name.bytes())
            .take(len)
            .take_while(|(a, b)| a == b)
            .count();
    }
    &first[..floor_char_boundary(first, len)]
}

pub(crate) fn floor_char_boundary(text: &str, at: usize) -> usize {
    (0..=at.min(text.len()))
        .rev()
        .find(|&i| text.is_char_boundary(i))
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_common_prefix_is_cut_on_a_character() {
        let names = |list: &[&str]| list.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        assert_eq!(common_prefix(&names(&["cats/a", "cats/b"])), "cats/");
        assert_eq!(common_prefix(&names(&["été", "étè"])), "ét");
        assert_eq!(common_prefix(&names(&["a", "b"])), "");
        assert_eq!(common_prefix(&names(&["solo"])), "solo");
        assert_eq!(common_prefix(&[]), "");
    }

    #[test]
    fn listed_keys_mark_their_names_taken() {
        let mut known = Known::default();
        known.note("original-uploads/cat.PNG".into(), 10);
        known.note("processed/dog_256x256.jpg".into(), 5);
        known.note("failed/eel.json".into(), 5);
        known.note("original-uploads/notes.txt".into(), 5);
        for taken in ["cat", "dog", "eel"] {
            assert!(known.is_taken(taken).unwrap(), "{taken}");
        }
        assert!(!known.is_taken("notes").unwrap());
        assert_eq!(
            known.originals["cat"],
            [("original-uploads/cat.PNG".into(), 10)]
        );
    }
}
