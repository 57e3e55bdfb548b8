//! What the status line knows: the last answer, when to ask again, whether the
//! panel and the re-drive question are open.

use std::time::Duration;

use augment_client::ops::{PipelineStatus, RedriveReport};

/// How often the worker is asked again while the app runs.
pub const REFRESH_EVERY: Duration = Duration::from_secs(60);

/// The status line's model.
#[derive(Debug, Default)]
pub struct PipelineLine {
    /// The last answer: the status, or what stopped it (for people).
    pub status: Option<Result<PipelineStatus, String>>,
    /// When (egui's clock, seconds) the worker was last asked; `None`: never.
    asked_at: Option<f64>,
    /// An answer is on its way.
    pub waiting: bool,
    pub panel_open: bool,
    /// *Re-drive…* was pressed: the question is showing.
    pub confirming: bool,
    /// What the last re-drive did, for people.
    pub redriven: Option<Result<String, String>>,
}

impl PipelineLine {
    /// Whether to ask the worker now (never twice at once).
    pub fn due(&self, now: f64) -> bool {
        !self.waiting
            && self
                .asked_at
                .is_none_or(|at| now - at >= REFRESH_EVERY.as_secs_f64())
    }

    pub fn asked(&mut self, now: f64) {
        self.asked_at = Some(now);
        self.waiting = true;
    }

    /// Ask again at the next frame (new settings, a re-drive done).
    pub fn refresh_soon(&mut self) {
        self.asked_at = None;
    }

    pub fn applied(&mut self, status: Result<PipelineStatus, String>) {
        self.waiting = false;
        self.status = Some(status);
    }

    pub fn redrive_done(&mut self, report: Result<RedriveReport, String>) {
        self.redriven = Some(report.map(|r| {
            format!(
                "Re-drove {} dead-lettered rotation tasks, {} failed uploads' events and {} stuck uploads.",
                r.dead_letters, r.failed_events, r.stuck
            )
        }));
        self.refresh_soon();
    }

    /// The line under the header.
    pub fn headline(&self) -> String {
        match &self.status {
            None => "Pipeline: checking…".to_owned(),
            Some(Ok(status)) if status.stages.complete.is_none() => {
                "Pipeline: not allowed to list the bucket".to_owned()
            }
            Some(Ok(status)) => format!("Pipeline: {}", status.headline()),
            Some(Err(_)) => "Pipeline: cannot check".to_owned(),
        }
    }

    /// Whether the line should catch the eye: something stuck or dead-lettered.
    pub fn needs_attention(&self) -> bool {
        matches!(&self.status, Some(Ok(status)) if !status.is_healthy())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn asks_once_then_again_after_the_interval() {
        let mut line = PipelineLine::default();
        assert!(line.due(0.0));
        line.asked(0.0);
        assert!(!line.due(1000.0), "never twice at once");
        line.applied(Ok(PipelineStatus::default()));
        assert!(!line.due(10.0));
        assert!(line.due(60.0));
        line.refresh_soon();
        assert!(line.due(10.0));
    }

    #[test]
    fn the_headline_says_what_it_knows() {
        let mut line = PipelineLine::default();
        assert_eq!(line.headline(), "Pipeline: checking…");
        let mut status = PipelineStatus::default();
        line.applied(Ok(status.clone()));
        assert_eq!(line.headline(), "Pipeline: not allowed to list the bucket");
        status.stages.complete = Some(1204);
        status.stages.stuck = Some(3);
        line.applied(Ok(status));
        assert_eq!(line.headline(), "Pipeline: 1,204 complete · 3 stuck");
        assert!(line.needs_attention());
        line.applied(Err("offline".into()));
        assert_eq!(line.headline(), "Pipeline: cannot check");
    }
}
