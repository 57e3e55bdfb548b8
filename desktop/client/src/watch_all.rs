//! Watching every upload of a remote with one poll: each round lists the output
//! prefixes under the watched names' common prefix (`processed/` and `failed/`
//! while something is not processed, the rotations' folders once something
//! is) and serves every watched upload from that listing, so a poll costs the same few requests
//! whether 1 or 1,000 uploads are waiting. A failed record is read (one `GET`)
//! only once its key is listed. When the listing would cost more pages than
//! asking per upload ([`WATCH_PAGES_PER_UPLOAD`]), the round asks per upload,
//! as before.

use std::collections::HashSet;

use augment_pipeline::contract::FAILED_PREFIX;
use augment_pipeline::limits::FAILED_KEY_NAME_BYTES;
use augment_pipeline::{Landed, Output, UploadKey};
use tokio::sync::mpsc;

use crate::error::ClientError;
use crate::lock::lock;
use crate::plan::{Pages, common_prefix, floor_char_boundary};
use crate::remote::Remote;
use crate::watch::{WATCH_FIRST_DELAY, WATCH_MAX_DELAY};
use crate::watched::WatchEvent;
use crate::watched::{Entry, Heard};

/// Listing pages one poll may read per watched upload before that round asks
/// per upload instead (2 requests an upload while nothing has landed).
pub const WATCH_PAGES_PER_UPLOAD: usize = 2;

/// Stops watching an upload when its watch ends or is dropped.
pub(crate) struct Registration {
    remote: Remote,
    id: u64,
    pub(crate) heard: mpsc::UnboundedReceiver<Heard>,
}

impl Drop for Registration {
    fn drop(&mut self) {
        lock(&self.remote.inner.watching).entries.remove(&self.id);
    }
}

impl Remote {
    /// Adds `key` to the shared poll (starting it if none runs).
    pub(crate) fn register_watch(&self, key: &UploadKey) -> Registration {
        let (heard, receiver) = mpsc::unbounded_channel();
        let mut watching = lock(&self.inner.watching);
        let id = watching.next_id;
        watching.next_id += 1;
        watching.entries.insert(
            id,
            Entry {
                key: key.clone(),
                seen: Landed::default(),
                heard,
            },
        );
        if !watching.polling {
            watching.polling = true;
            tokio::spawn(self.clone().poll_all());
        }
        Registration {
            remote: self.clone(),
            id,
            heard: receiver,
        }
    }

    /// The poll loop: runs while anything is watched (250 ms doubling to 2 s,
    /// back to 250 ms after news).
    async fn poll_all(self) {
        let mut delay = WATCH_FIRST_DELAY;
        loop {
            let watched: Vec<(u64, UploadKey, Landed)> = {
                let mut watching = lock(&self.inner.watching);
                if watching.entries.is_empty() {
                    watching.polling = false;
                    return;
                }
                let entries = &watching.entries;
                entries
                    .iter()
                    .map(|(id, e)| (*id, e.key.clone(), e.seen))
                    .collect()
            };
            match self.poll_round(&watched).await {
                Ok(news) => {
                    if news {
                        delay = WATCH_FIRST_DELAY;
                    }
                }
                Err(err) if err.is_transient() => {
                    self.inner
                        .retried
                        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    tracing::debug!(error = %err.detail(), "watch: transient error, polling again");
                    // A look that failed is a look: a watch's timeout still runs.
                    let watching = lock(&self.inner.watching);
                    for entry in watching.entries.values() {
                        let _ = entry.heard.send(Ok(None));
                    }
                }
                Err(err) => {
                    let watching = lock(&self.inner.watching);
                    for entry in watching.entries.values() {
                        let _ = entry.heard.send(Err(err.clone()));
                    }
                }
            }
            tokio::time::sleep(delay).await;
            delay = (delay * 2).min(WATCH_MAX_DELAY);
        }
    }

    /// One round for every watched upload; whether anything was heard.
    async fn poll_round(&self, watched: &[(u64, UploadKey, Landed)]) -> Result<bool, ClientError> {
        let found = self.list_outputs(watched).await?;
        let mut news = false;
        for (id, key, seen) in watched {
            let mut seen = *seen;
            let events = match &found {
                Some(found) => self.events_in(found, key, &mut seen).await?,
                None => self.poll_outputs(key, &mut seen).await?,
            };
            let local_fault = self.inner.local.as_ref().and_then(|local| local.fault(key));
            let watching = &mut lock(&self.inner.watching);
            let Some(entry) = watching.entries.get_mut(id) else {
                continue;
            };
            entry.seen = seen;
            news |= !events.is_empty();
            for event in events {
                let _ = entry.heard.send(Ok(Some(event)));
            }
            if let Some(message) = local_fault {
                let _ = entry.heard.send(Ok(Some(WatchEvent::Failed(message))));
            }
            let _ = entry.heard.send(Ok(None));
        }
        Ok(news)
    }

    /// Every output and failed key under the watched names' common prefix, or
    /// `None` when listing would cost more than asking per upload.
    async fn list_outputs(
        &self,
        watched: &[(u64, UploadKey, Landed)],
    ) -> Result<Option<HashSet<String>>, ClientError> {
        let names: Vec<String> = watched
            .iter()
            .map(|(_, k, _)| k.name().to_owned())
            .collect();
        let common = common_prefix(&names);
        let failed_cut = floor_char_boundary(common, FAILED_KEY_NAME_BYTES / 2);
        // One round of one upload lists the processed and failed folders and the
        // four rotations' at most: never less than that.
        let budget = (watched.len() * WATCH_PAGES_PER_UPLOAD).max(Output::ALL.len() + 1);
        let mut pages = Pages::new(budget);
        let mut found = HashSet::new();
        let seen_processed =
            |(_, _, seen): &(u64, UploadKey, Landed)| seen.contains(Output::Processed);
        // A failed record comes instead of the processed image: ask for either
        // only while one can still come.
        if !watched.iter().all(seen_processed) {
            for prefix in [
                format!("{}{common}", Output::Processed.prefix()),
                format!("{FAILED_PREFIX}{}", &common[..failed_cut]),
            ] {
                let Some(listed) = self.list_within(&prefix, &mut pages).await? else {
                    return Ok(None);
                };
                found.extend(listed.into_iter().map(|object| object.key));
            }
        }
        // Rotations are made from the processed image: none before it.
        let any_processed = watched
            .iter()
            .any(|w| seen_processed(w) || found.contains(&Output::Processed.key(&w.1)));
        if any_processed {
            for output in Output::ROTATIONS {
                let prefix = format!("{}{common}", output.prefix());
                let Some(listed) = self.list_within(&prefix, &mut pages).await? else {
                    return Ok(None);
                };
                found.extend(listed.into_iter().map(|object| object.key));
            }
        }
        Ok(Some(found))
    }

    /// What is new for `key` in a listing: a rejection (its record read), or
    /// outputs that landed, the processed image first.
    async fn events_in(
        &self,
        found: &HashSet<String>,
        key: &UploadKey,
        seen: &mut Landed,
    ) -> Result<Vec<WatchEvent>, ClientError> {
        if !seen.contains(Output::Processed)
            && found.contains(&key.failed_key())
            && let Some(record) = self.failed_record(key).await?
        {
            return Ok(vec![WatchEvent::Rejected(record)]);
        }
        let mut events = Vec::new();
        for output in seen.missing().collect::<Vec<_>>() {
            let output_key = output.key(key);
            if !found.contains(&output_key) {
                if output == Output::Processed {
                    break;
                }
                continue;
            }
            seen.insert(output);
            events.push(WatchEvent::Landed {
                output,
                key: output_key,
            });
        }
        Ok(events)
    }
}
