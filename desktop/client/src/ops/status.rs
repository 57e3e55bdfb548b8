//! `augment status`: the pipeline's stages from the bucket, the queues where the
//! settings name them, and the time from upload to the fourth rotation.

use std::time::SystemTime;

use serde::Serialize;

use super::census::Census;
use super::{Denied, Operator, QueueDepth, StatusOptions};
use crate::{ClientError, Remote};

/// Everything `status` found. A stage is `None` where the credentials could not
/// list it (see [`PipelineStatus::denied`]).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct PipelineStatus {
    pub stages: Stages,
    /// The stuck uploads named (at most [`StatusOptions::stuck_named`]; the
    /// count is [`Stages::stuck`]).
    pub stuck: Vec<StuckUpload>,
    /// The queues the settings name (none in local mode).
    pub queues: Vec<QueueDepth>,
    /// Upload to the fourth rotation over the last uploads that completed.
    pub timing: Option<Timing>,
    /// What the credentials in use could not see.
    pub denied: Vec<Denied>,
}

/// Counts per stage.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Stages {
    /// Objects under `original-uploads/`.
    pub uploads: Option<u64>,
    /// Processed images.
    pub processed: Option<u64>,
    /// Names with every output ([`augment_pipeline::Landed::is_complete`]).
    pub complete: Option<u64>,
    /// `failed/` records.
    pub rejected: Option<u64>,
    /// Uploads older than the threshold, not complete, without a record.
    pub stuck: Option<u64>,
}

/// One stuck upload and what it lacks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StuckUpload {
    /// `original-uploads/<name>.<ext>`.
    pub key: String,
    pub age_secs: u64,
    /// The missing outputs' codes (`processed`, `90`, …; `Output::code`).
    pub missing: Vec<&'static str>,
    pub size_bytes: u64,
    /// When it was uploaded, as the store says.
    #[serde(skip)]
    pub uploaded: Option<SystemTime>,
}

/// Upload to the fourth rotation, from the objects' last-modified times.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Timing {
    /// How many uploads were measured.
    pub uploads: usize,
    pub median_ms: u64,
    pub p95_ms: u64,
}

impl Timing {
    /// Median and p95 (nearest rank) of the durations; `None` for none.
    pub fn of(mut durations_ms: Vec<u64>) -> Option<Self> {
        if durations_ms.is_empty() {
            return None;
        }
        durations_ms.sort_unstable();
        let rank = |q: usize| {
            let index = (durations_ms.len() * q).div_ceil(100).max(1) - 1;
            durations_ms[index.min(durations_ms.len() - 1)]
        };
        Some(Self {
            uploads: durations_ms.len(),
            median_ms: rank(50),
            p95_ms: rank(95),
        })
    }
}

impl PipelineStatus {
    /// One line: `1,204 complete · 3 stuck · 0 dead letters` (a stage the
    /// credentials could not see is `?`; dead letters only where there is a queue).
    pub fn headline(&self) -> String {
        let count = |n: Option<u64>| n.map_or_else(|| "?".to_owned(), thousands);
        let mut line = format!(
            "{} complete · {} stuck",
            count(self.stages.complete),
            count(self.stages.stuck)
        );
        if let Some(dlq) = self.queue(super::QueueRole::DeadLetters) {
            line.push_str(&format!(
                " · {} dead letters",
                thousands(dlq.waiting + dlq.in_flight)
            ));
        }
        line
    }

    /// The count of one queue, where it could be read.
    pub fn queue(&self, role: super::QueueRole) -> Option<&QueueDepth> {
        self.queues.iter().find(|q| q.role == role)
    }

    /// Nothing stuck, nothing dead-lettered, no failed event waiting.
    pub fn is_healthy(&self) -> bool {
        self.stages.stuck.unwrap_or(0) == 0
            && self
                .queues
                .iter()
                .filter(|q| q.role != super::QueueRole::Rotations)
                .all(|q| q.waiting + q.in_flight == 0)
    }
}

/// `1204` as `1,204`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

impl Remote {
    /// The pipeline's status: the stages from the bucket (paged: memory grows
    /// with the number of names by a hash and a few bytes, never their keys), the
    /// queues through `operator` where there is one. What the credentials may
    /// not see is in [`PipelineStatus::denied`]; only an error that stops every
    /// look (no such bucket, offline) is an `Err`.
    pub async fn status(
        &self,
        operator: Option<&Operator>,
        options: StatusOptions,
    ) -> Result<PipelineStatus, ClientError> {
        let census = Census::take(self, options, SystemTime::now()).await?;
        let mut status = PipelineStatus {
            stages: census.stages,
            stuck: census.stuck,
            queues: Vec::new(),
            timing: census.timing,
            denied: census.denied,
        };
        if let Some(operator) = operator {
            let (queues, denied) = operator.queue_depths().await?;
            status.queues = queues;
            status.denied.extend(denied);
        }
        Ok(status)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_headline_counts_with_separators_and_says_what_it_cannot_see() {
        let mut status = PipelineStatus::default();
        status.stages.complete = Some(1204);
        status.stages.stuck = Some(3);
        assert_eq!(status.headline(), "1,204 complete · 3 stuck");
        status.queues.push(QueueDepth {
            role: super::super::QueueRole::DeadLetters,
            url: "u".into(),
            waiting: 0,
            in_flight: 0,
        });
        status.stages.complete = None;
        assert_eq!(status.headline(), "? complete · 3 stuck · 0 dead letters");
        assert!(!status.is_healthy());
        assert_eq!(thousands(1_000_000), "1,000,000");
        assert_eq!(thousands(999), "999");
    }

    #[test]
    fn timing_is_the_median_and_the_95th_by_nearest_rank() {
        assert_eq!(Timing::of(Vec::new()), None);
        let one = Timing::of(vec![700]).unwrap();
        assert_eq!((one.median_ms, one.p95_ms), (700, 700));
        let hundred = Timing::of((1..=100).rev().collect()).unwrap();
        assert_eq!(
            (hundred.uploads, hundred.median_ms, hundred.p95_ms),
            (100, 50, 95)
        );
    }
}
