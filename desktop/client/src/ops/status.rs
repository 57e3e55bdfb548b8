//! `augment status`: the pipeline's stages from the bucket, the queues where the
//! settings name them, and the time from upload to the fourth rotation.

use std::time::SystemTime;

use serde::Serialize;

use super::aws::{Operator, QueueDepth, QueueRole};
use super::census::{Census, Stages, StuckUpload, Timing};
use super::denied::Denied;
use super::options::StatusOptions;
use crate::error::ClientError;
use crate::remote::Remote;

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
        if let Some(dlq) = self.queue(QueueRole::DeadLetters) {
            line.push_str(&format!(
                " · {} dead letters",
                thousands(dlq.waiting + dlq.in_flight)
            ));
        }
        line
    }

    /// The count of one queue, where it could be read.
    pub fn queue(&self, role: QueueRole) -> Option<&QueueDepth> {
        self.queues.iter().find(|q| q.role == role)
    }

    /// Nothing stuck, nothing dead-lettered, no failed event waiting.
    pub fn is_healthy(&self) -> bool {
        self.stages.stuck.unwrap_or(0) == 0
            && self
                .queues
                .iter()
                .filter(|q| q.role != QueueRole::Rotations)
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
            role: QueueRole::DeadLetters,
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
