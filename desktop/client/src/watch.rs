//! What became of an upload: its outputs now, and watching them land.

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use augment_pipeline::{Landed, Output, UploadKey, Verdict};

use crate::error::{ClientError, ErrorKind};

use crate::{
    MAX_FAILED_RECORD_BYTES, OutputsState, Remote, WATCH_FIRST_DELAY, WATCH_MAX_DELAY, WatchEvent,
};

impl Remote {
    /// Which of the upload's outputs exist now.
    pub async fn outputs(&self, upload_key: &UploadKey) -> Result<OutputsState, ClientError> {
        let mut state = OutputsState::default();
        for output in Output::ALL {
            if self.exists(&output.key(upload_key)).await? {
                state.landed.insert(output);
            }
        }
        state.failed = self.failed_record(upload_key).await?;
        Ok(state)
    }

    /// Watches for the upload's outputs until every one exists, the
    /// pipeline rejects it, or `timeout` passes; `on_event` hears each as it
    /// happens. Polls with backoff (250 ms doubling to 2 s, back to 250 ms after
    /// news) in both modes, so the events are the same; local mode also reports the
    /// pipeline's own failures ([`WatchEvent::Failed`]). A transient error while
    /// polling is retried, others are returned.
    pub async fn watch(
        &self,
        upload_key: &UploadKey,
        mut on_event: impl FnMut(WatchEvent) + Send,
        timeout: Duration,
    ) -> Result<(), ClientError> {
        let started = Instant::now();
        let mut delay = WATCH_FIRST_DELAY;
        let mut seen = Landed::default();
        loop {
            if let Some(local) = &self.inner.local
                && let Some(message) = local.fault(upload_key)
            {
                on_event(WatchEvent::Failed(message));
                return Ok(());
            }
            match self.poll_outputs(upload_key, &mut seen).await {
                Ok(events) => {
                    // Rotations land moments apart: look again soon after news.
                    if !events.is_empty() {
                        delay = WATCH_FIRST_DELAY;
                    }
                    for event in events {
                        let last = matches!(event, WatchEvent::Rejected(_));
                        on_event(event);
                        if last {
                            return Ok(());
                        }
                    }
                    if seen.is_complete() {
                        return Ok(());
                    }
                }
                Err(err) if err.is_transient() => {
                    self.inner.retried.fetch_add(1, Ordering::Relaxed);
                    tracing::debug!(error = %err.detail(), "watch: transient error, polling again");
                }
                Err(err) => return Err(err),
            }
            let left = timeout.saturating_sub(started.elapsed());
            if left.is_zero() {
                on_event(WatchEvent::TimedOut);
                return Ok(());
            }
            tokio::time::sleep(delay.min(left)).await;
            delay = (delay * 2).min(WATCH_MAX_DELAY);
        }
    }

    /// The upload's failed record, if the pipeline wrote one.
    pub(crate) async fn failed_record(
        &self,
        upload_key: &UploadKey,
    ) -> Result<Option<Verdict>, ClientError> {
        match self
            .get(&upload_key.failed_key(), MAX_FAILED_RECORD_BYTES)
            .await
        {
            Ok(bytes) => Ok(Some(parse_failed_record(upload_key, &bytes))),
            Err(err) if err.kind == ErrorKind::NotFound => Ok(None),
            Err(err) => Err(err),
        }
    }

    /// One round of a watch, asking only what can have changed: before the
    /// processed image exists, whether it does or a failed record does (2
    /// requests; rotations cannot exist yet); after, only the outputs still
    /// missing.
    pub(crate) async fn poll_outputs(
        &self,
        upload_key: &UploadKey,
        seen: &mut Landed,
    ) -> Result<Vec<WatchEvent>, ClientError> {
        let mut events = Vec::new();
        if !seen.contains(Output::Processed)
            && let Some(record) = self.failed_record(upload_key).await?
        {
            events.push(WatchEvent::Rejected(record));
            return Ok(events);
        }
        for output in seen.missing().collect::<Vec<_>>() {
            let key = output.key(upload_key);
            if !self.exists(&key).await? {
                // Rotations are made from the processed image: none before it.
                if output == Output::Processed {
                    break;
                }
                continue;
            }
            seen.insert(output);
            events.push(WatchEvent::Landed { output, key });
        }
        Ok(events)
    }
}

/// The record's verdict, its code kept as written (a newer pipeline's code
/// stays itself). A record that does not parse at all (damaged) still means the
/// upload failed: say so rather than wait for rotations that will not come.
pub(crate) fn parse_failed_record(upload_key: &UploadKey, bytes: &[u8]) -> Verdict {
    Verdict::parse(bytes).unwrap_or_else(|| Verdict::unreadable(upload_key))
}
