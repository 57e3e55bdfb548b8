//! The batch summary above the queue: "N done · M failed · K left", one
//! progress bar with rate and time left, the window title while a batch runs,
//! and the end of a batch (for a notification when nobody was looking).
//!
//! Everything here counts one run: the rows added since the queue was last
//! idle (or cleared). Rows of earlier runs stay in the list (a failure keeps
//! its reason) but never enter a later run's counts.

use super::clock::BatchClock;

use egui::{RichText, Ui};

use super::model::{State, Transfer};
use crate::format::{format_eta, format_files_rate};
use crate::launch::APP_NAME;
use crate::style::Palette;

/// How many rows are where.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub total: usize,
    pub done: usize,
    pub failed: usize,
    /// Still moving: checking, queued, uploading, processing, waiting for an answer.
    pub left: usize,
    pub skipped: usize,
    pub cancelled: usize,
}

impl Counts {
    /// The counts of `run`'s rows.
    pub fn of(transfers: &[Transfer], run: u64) -> Self {
        let mut counts = Self::default();
        for transfer in transfers.iter().filter(|t| t.run == run) {
            counts.total += 1;
            match transfer.state {
                // Done, then deleted: it was done in this run.
                State::Done | State::Deleted => counts.done += 1,
                State::Failed { .. } => counts.failed += 1,
                State::Skipped { .. } => counts.skipped += 1,
                State::Cancelled => counts.cancelled += 1,
                _ => counts.left += 1,
            }
        }
        counts
    }

    pub fn finished(&self) -> usize {
        self.total - self.left
    }

    /// "120 done · 3 failed · 80 left", with skipped and cancelled when there are any.
    pub fn text(&self) -> String {
        let mut text = format!(
            "{} done · {} failed · {} left",
            self.done, self.failed, self.left
        );
        if self.skipped > 0 {
            text.push_str(&format!(" · {} skipped", self.skipped));
        }
        if self.cancelled > 0 {
            text.push_str(&format!(" · {} cancelled", self.cancelled));
        }
        text
    }

    /// The window title: "Augment — 120/203" while a batch runs.
    pub fn title(&self) -> String {
        if self.left == 0 {
            APP_NAME.to_owned()
        } else {
            format!("{APP_NAME} — {}/{}", self.finished(), self.total)
        }
    }
}

/// How much of `run` is through: finished files count whole, an upload
/// half its progress, a processing file a half.
pub fn fraction(transfers: &[Transfer], run: u64, total: usize) -> f32 {
    if total == 0 {
        return 1.0;
    }
    let through: f64 = transfers
        .iter()
        .filter(|t| t.run == run)
        .map(|transfer| match &transfer.state {
            State::Uploading {
                sent_bytes,
                total_bytes,
                ..
            } if *total_bytes > 0 => 0.5 * (*sent_bytes as f64 / *total_bytes as f64),
            State::Processing => 0.5,
            state if !state.is_active() => 1.0,
            _ => 0.0,
        })
        .sum();
    (through / total as f64) as f32
}

/// The run's counts and its progress bar with rate and time left; with no row
/// of its own (cleared), what was cleared.
pub fn summary_ui(
    ui: &mut Ui,
    transfers: &[Transfer],
    run: u64,
    cleared: Option<&str>,
    clock: &BatchClock,
    palette: &Palette,
) {
    let counts = Counts::of(transfers, run);
    if counts.total == 0 {
        ui.horizontal_wrapped(|ui| {
            ui.label(RichText::new("Transfers").strong());
            let text = cleared.unwrap_or("Nothing running");
            ui.label(RichText::new(text).color(palette.muted));
        });
        return;
    }
    ui.horizontal(|ui| {
        ui.label(RichText::new("Transfers").strong());
        let color = if counts.failed > 0 {
            palette.error
        } else {
            palette.muted
        };
        ui.label(RichText::new(counts.text()).color(color));
    });
    let fraction = fraction(transfers, run, counts.total);
    let mut text = format!("{}/{} files", counts.finished(), counts.total);
    if let Some((rate, left)) = clock.estimate(counts.finished(), counts.left) {
        text.push_str(&format!(
            " · {} · {}",
            format_files_rate(rate),
            format_eta(left)
        ));
    }
    ui.add(
        egui::ProgressBar::new(fraction)
            .desired_height(14.0)
            .text(RichText::new(text).small()),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_counts_read_as_a_sentence_and_a_title() {
        let counts = Counts {
            total: 203,
            done: 117,
            failed: 3,
            left: 80,
            skipped: 2,
            cancelled: 1,
        };
        assert_eq!(
            counts.text(),
            "117 done · 3 failed · 80 left · 2 skipped · 1 cancelled"
        );
        assert_eq!(counts.title(), "Augment — 123/203");
        let idle = Counts { left: 0, ..counts };
        assert_eq!(idle.title(), "Augment");
    }
}
