//! What became of an upload: its outputs now, and watching them land.

use std::time::Duration;

use augment_pipeline::limits::MAX_FAILED_RECORD_BYTES;
use augment_pipeline::{Landed, Output, UploadKey, Verdict};

use crate::error::{ClientError, ErrorKind};
use crate::remote::Remote;
use crate::watched::WatchEvent;

/// First pause of [`Remote::watch`]: the processor usually answers within a second.
pub const WATCH_FIRST_DELAY: Duration = Duration::from_millis(250);
/// Longest pause of [`Remote::watch`]: fast enough to feel live, slow enough that
/// a gallery of pending uploads does not hammer the bucket.
pub const WATCH_MAX_DELAY: Duration = Duration::from_secs(2);
/// What [`Remote::watch`] waits by default before saying the pipeline has not
/// answered (a cold Lambda start plus four rotations is a few seconds).
pub const WATCH_DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);

/// Which outputs of an upload exist now.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OutputsState {
    pub landed: Landed,
    pub failed: Option<Verdict>,
}

impl OutputsState {
    /// Every output is there ([`Landed::is_complete`]).
    pub fn is_complete(&self) -> bool {
        self.landed.is_complete()
    }
}

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
    /// happens. Every upload this remote watches is served by one poll (250 ms
    /// doubling to 2 s, back to 250 ms after news), which lists the output
    /// folders once a round for all of them (see `watch_all`); both modes give
    /// the same events, and local mode also reports the pipeline's own failures
    /// ([`WatchEvent::Failed`]). A transient error while polling is retried,
    /// others are returned. Dropping the future stops watching.
    pub async fn watch(
        &self,
        upload_key: &UploadKey,
        mut on_event: impl FnMut(WatchEvent) + Send,
        timeout: Duration,
    ) -> Result<(), ClientError> {
        let deadline = tokio::time::Instant::now() + timeout;
        let mut registration = self.register_watch(upload_key);
        let mut landed = Landed::default();
        // The timeout counts once the poll has looked at least once, so even a
        // zero timeout looks.
        let mut looked = false;
        loop {
            tokio::select! {
                heard = registration.heard.recv() => {
                    let Some(heard) = heard else {
                        return Ok(());
                    };
                    let Some(event) = heard? else {
                        looked = true;
                        continue;
                    };
                    let last = matches!(event, WatchEvent::Rejected(_) | WatchEvent::Failed(_));
                    if let WatchEvent::Landed { output, .. } = &event {
                        landed.insert(*output);
                    }
                    on_event(event);
                    if last || landed.is_complete() {
                        return Ok(());
                    }
                }
                () = tokio::time::sleep_until(deadline), if looked => {
                    on_event(WatchEvent::TimedOut);
                    return Ok(());
                }
            }
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
