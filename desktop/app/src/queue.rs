//! The transfer queue: one row per file, from the checks through the upload to
//! the pipeline's four rotations (or the reason there are none).

use std::path::PathBuf;
use std::time::{Duration, Instant};

use augment_pipeline::Angle;
use egui::{RichText, TextureHandle, Ui, Vec2};

use super::format::{format_bytes, format_eta, format_rate, percent};
use super::worker::{Command, TransferId, WATCH_TIMEOUT};
use super::{Palette, empty_state_ui};

/// Side of the file's thumbnail in a queue row, in points.
const ROW_THUMB_PT: f32 = 48.0;
/// Side of each rotation's thumbnail in a queue row, in points.
const ROTATION_THUMB_PT: f32 = 40.0;
/// Rate and time left are shown once this much of the upload has been seen:
/// before that the estimate jumps about.
const RATE_WARMUP: Duration = Duration::from_millis(300);

/// Where one file is.
#[derive(Debug, Clone, PartialEq)]
pub enum State {
    /// Reading the file: size, type by content.
    Checking,
    /// Passed the checks, waiting for an upload slot (or the connection).
    Queued,
    Uploading {
        sent_bytes: u64,
        total_bytes: u64,
        started: Instant,
    },
    /// Uploaded; waiting for the pipeline's rotations.
    Processing {
        upload_key: String,
    },
    Done,
    /// Not uploaded, or not processed: `reason` in words. `retry` when trying
    /// again can help.
    Failed {
        reason: String,
        retry: bool,
    },
    Cancelled,
}

impl State {
    /// Still moving: can be cancelled, and holds the screenshot back.
    pub fn is_active(&self) -> bool {
        matches!(
            self,
            Self::Checking | Self::Queued | Self::Uploading { .. } | Self::Processing { .. }
        )
    }

    /// What the status line says.
    pub fn describe(&self) -> String {
        match self {
            Self::Checking => "Checking…".to_owned(),
            Self::Queued => "Queued".to_owned(),
            Self::Uploading {
                sent_bytes,
                total_bytes,
                started,
            } => {
                let mut text = format!("Uploading {} %", percent(*sent_bytes, *total_bytes));
                let elapsed = started.elapsed();
                if elapsed >= RATE_WARMUP && *sent_bytes > 0 {
                    let rate = *sent_bytes as f64 / elapsed.as_secs_f64();
                    let left = total_bytes.saturating_sub(*sent_bytes) as f64 / rate;
                    text.push_str(&format!(
                        " · {} · {}",
                        format_rate(rate),
                        format_eta(Duration::from_secs_f64(left.min(1e7)))
                    ));
                }
                text
            }
            Self::Processing { .. } => "Processing…".to_owned(),
            Self::Done => "Done".to_owned(),
            Self::Failed { reason, .. } => reason.clone(),
            Self::Cancelled => "Cancelled".to_owned(),
        }
    }
}

/// One file in the queue.
pub struct Transfer {
    pub id: TransferId,
    /// The upload name (`trip/beach.jpg`).
    pub name: String,
    pub path: PathBuf,
    pub size_bytes: Option<u64>,
    pub thumb: Option<TextureHandle>,
    pub state: State,
    /// The rotations that have landed, in [`Angle::ALL`] order.
    pub rotations: [Option<TextureHandle>; 4],
}

/// What a row's buttons asked for.
pub enum RowAction {
    Send(Command),
    Remove(TransferId),
}

/// The message when the pipeline did not answer in time: what to check.
pub fn timeout_message(local: bool) -> String {
    let secs = WATCH_TIMEOUT.as_secs();
    if local {
        format!(
            "Uploaded, but no rotations appeared within {secs} s. The local pipeline may have stopped: restart the app and retry."
        )
    } else {
        format!(
            "Uploaded, but no rotations appeared within {secs} s. Check that the bucket's upload trigger and the two Lambdas are deployed (cargo xtask deploy), and look at their CloudWatch logs."
        )
    }
}

/// The queue: a header with counts and "Clear finished", then the rows.
/// `offline`: the connection failed, so queued files say what they wait for.
pub fn queue_ui(
    ui: &mut Ui,
    transfers: &[Transfer],
    offline: bool,
    palette: &Palette,
) -> Vec<RowAction> {
    let mut actions = Vec::new();
    if transfers.is_empty() {
        empty_state_ui(
            ui,
            "Drop images here",
            "or use Add images… (Ctrl+O). JPEG or PNG, up to 10 MiB each; folders too.",
        );
        return actions;
    }
    let active = transfers.iter().filter(|t| t.state.is_active()).count();
    let finished = transfers.len() - active;
    ui.horizontal(|ui| {
        ui.label(RichText::new("Transfers").strong());
        ui.label(
            RichText::new(if active > 0 {
                format!("{active} in progress")
            } else {
                format!("{} finished", transfers.len())
            })
            .color(palette.muted),
        );
        ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
            if ui
                .add_enabled(finished > 0, egui::Button::new("Clear finished"))
                .clicked()
            {
                for transfer in transfers.iter().filter(|t| !t.state.is_active()) {
                    actions.push(RowAction::Remove(transfer.id));
                }
            }
        });
    });
    ui.separator();
    egui::ScrollArea::vertical()
        .auto_shrink([false, false])
        .show(ui, |ui| {
            for transfer in transfers {
                row_ui(ui, transfer, offline, palette, &mut actions);
                ui.separator();
            }
        });
    actions
}

fn row_ui(
    ui: &mut Ui,
    transfer: &Transfer,
    offline: bool,
    palette: &Palette,
    actions: &mut Vec<RowAction>,
) {
    ui.horizontal(|ui| {
        thumb_ui(
            ui,
            transfer.thumb.as_ref(),
            ROW_THUMB_PT,
            &transfer.name,
            palette,
        );
        ui.vertical(|ui| {
            // The size first: a truncated name takes all the width left, and
            // anything after it would widen the panel, frame after frame.
            ui.horizontal(|ui| {
                if let Some(size) = transfer.size_bytes {
                    ui.label(RichText::new(format_bytes(size)).color(palette.muted));
                }
                ui.add(egui::Label::new(RichText::new(&transfer.name).strong()).truncate())
                    .on_hover_text(&transfer.name);
            });
            let color = match &transfer.state {
                State::Failed { .. } => palette.error,
                State::Done => palette.success,
                _ => palette.muted,
            };
            let mut status = transfer.state.describe();
            if offline && transfer.state == State::Queued {
                status.push_str(": not connected, see the message at the top or Settings");
            }
            ui.add(egui::Label::new(RichText::new(status).color(color)).wrap());
            match &transfer.state {
                State::Uploading {
                    sent_bytes,
                    total_bytes,
                    ..
                } => {
                    let fraction = if *total_bytes == 0 {
                        1.0
                    } else {
                        *sent_bytes as f32 / *total_bytes as f32
                    };
                    ui.add(egui::ProgressBar::new(fraction).desired_height(6.0));
                }
                State::Processing { .. } | State::Done => {
                    rotations_ui(ui, transfer, palette);
                }
                _ => {}
            }
            ui.horizontal(|ui| {
                if transfer.state.is_active() {
                    // Once uploaded, the file is the pipeline's: there is nothing
                    // left to stop.
                    let cancellable = !matches!(transfer.state, State::Processing { .. });
                    if cancellable && ui.small_button("Cancel").clicked() {
                        actions.push(RowAction::Send(Command::Cancel(transfer.id)));
                    }
                } else {
                    let retry = matches!(
                        transfer.state,
                        State::Failed { retry: true, .. } | State::Cancelled
                    );
                    if retry && ui.small_button("Retry").clicked() {
                        actions.push(RowAction::Send(Command::Retry(transfer.id)));
                    }
                    if ui
                        .small_button("Remove")
                        .on_hover_text(
                            "Take this row off the list; the file and the bucket are not touched",
                        )
                        .clicked()
                    {
                        actions.push(RowAction::Remove(transfer.id));
                    }
                }
            });
        });
    });
}

/// The four rotations as they land; an empty frame for each still to come.
fn rotations_ui(ui: &mut Ui, transfer: &Transfer, palette: &Palette) {
    ui.horizontal(|ui| {
        for (angle, texture) in Angle::ALL.iter().zip(&transfer.rotations) {
            let alt = format!("{} rotated {}°", transfer.name, angle.degrees());
            thumb_ui(ui, texture.as_ref(), ROTATION_THUMB_PT, &alt, palette);
            ui.label(
                RichText::new(format!("{}°", angle.degrees()))
                    .small()
                    .color(palette.muted),
            );
        }
    });
}

/// A square thumbnail, or a placeholder of the same size while it loads.
pub fn thumb_ui(
    ui: &mut Ui,
    texture: Option<&TextureHandle>,
    side_pt: f32,
    alt: &str,
    palette: &Palette,
) {
    let size = Vec2::splat(side_pt);
    match texture {
        Some(texture) => {
            // Centred in a fixed square, so tall and wide images keep the
            // columns beside them aligned.
            ui.add_sized(
                size,
                egui::Image::new(texture)
                    .fit_to_exact_size(size)
                    .maintain_aspect_ratio(true)
                    .corner_radius(4.0)
                    .alt_text(alt),
            );
        }
        None => {
            let (rect, _) = ui.allocate_exact_size(size, egui::Sense::hover());
            ui.painter().rect_filled(rect, 4.0, palette.placeholder);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_upload_reads_percent_rate_and_time_left() {
        let state = State::Uploading {
            sent_bytes: 2 * 1024 * 1024,
            total_bytes: 8 * 1024 * 1024,
            started: Instant::now() - Duration::from_secs(2),
        };
        // About 1 MiB/s: the clock moved on a little since `started`.
        let text = state.describe();
        assert!(text.starts_with("Uploading 25 % · "), "{text}");
        assert!(text.contains("/s · ") && text.ends_with("s left"), "{text}");
        let early = State::Uploading {
            sent_bytes: 10,
            total_bytes: 100,
            started: Instant::now(),
        };
        assert_eq!(early.describe(), "Uploading 10 %");
    }

    #[test]
    fn the_timeout_message_says_what_to_check() {
        assert!(timeout_message(false).contains("Lambdas"));
        assert!(timeout_message(true).contains("restart the app"));
    }
}
