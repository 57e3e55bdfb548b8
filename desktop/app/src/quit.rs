//! Quitting: Ctrl+Q or the window's close button. With files or a download or
//! export still moving the app asks first (*Quit and finish later* /
//! *Cancel*); what is left is in the saved queue ([`super::journal`]) and the
//! saved dataset job, and resumes at the next start.

use egui::RichText;

use crate::dataset_job::JobKind;

/// What is still moving when the person quits.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Left {
    /// Rows still uploading or waiting for the pipeline.
    pub files: usize,
    /// The download or export running, if any.
    pub job: Option<JobKind>,
}

impl Left {
    fn is_empty(self) -> bool {
        self.files == 0 && self.job.is_none()
    }

    fn heading(self) -> &'static str {
        match (self.files, self.job) {
            (0, Some(JobKind::Download)) => "A download is still running",
            (0, Some(JobKind::Export)) => "An export is still running",
            _ => "Uploads are still running",
        }
    }

    /// What is kept, in a sentence or two.
    fn text(self) -> String {
        let files = match self.files {
            0 => None,
            1 => Some("1 file is not finished.".to_owned()),
            n => Some(format!("{n} files are not finished.")),
        };
        let job = self.job.map(|kind| match kind {
            JobKind::Download => "The download",
            JobKind::Export => "The export",
        });
        let files = files.map(|files| {
            format!(
                "{files} They are kept, and finish the next time you open Augment; nothing already uploaded is sent again."
            )
        });
        let job = job.map(|job| match files {
            Some(_) => format!("{job} continues where it stopped."),
            None => format!(
                "{job} continues where it stopped the next time you open Augment; nothing already written is fetched again."
            ),
        });
        [files, job]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// The quit question's state.
#[derive(Debug, Default)]
pub struct Quit {
    /// The question is on screen.
    asking: bool,
    /// The person said to quit: the next close goes through.
    confirmed: bool,
}

impl Quit {
    /// Ctrl+Q and the window's close request, once a frame. Quits at once when
    /// nothing is `left`, else asks.
    pub fn input(&mut self, ctx: &egui::Context, left: Left) {
        let ctrl_q = ctx.input_mut(|i| {
            i.consume_shortcut(&egui::KeyboardShortcut::new(
                egui::Modifiers::COMMAND,
                egui::Key::Q,
            ))
        });
        let close = ctx.input(|i| i.viewport().close_requested());
        if self.confirmed || left.is_empty() {
            if ctrl_q {
                ctx.send_viewport_cmd(egui::ViewportCommand::Close);
            }
            return;
        }
        if close {
            ctx.send_viewport_cmd(egui::ViewportCommand::CancelClose);
        }
        if close || ctrl_q {
            self.asking = true;
        }
    }

    /// The question, while it is asked.
    pub fn ui(&mut self, ctx: &egui::Context, left: Left) {
        if !self.asking {
            return;
        }
        if left.is_empty() {
            // Everything finished while the question was open: nothing to keep.
            self.asking = false;
            ctx.send_viewport_cmd(egui::ViewportCommand::Close);
            return;
        }
        let modal = egui::Modal::new(egui::Id::unique("quit")).show(ctx, |ui| {
            ui.set_max_width(420.0);
            ui.heading(left.heading());
            ui.label(left.text());
            ui.add_space(8.0);
            ui.horizontal(|ui| {
                if ui.button(RichText::new("Quit and finish later")).clicked() {
                    self.confirmed = true;
                    ctx.send_viewport_cmd(egui::ViewportCommand::Close);
                }
                if ui.button("Cancel").clicked() {
                    self.asking = false;
                }
            });
        });
        if modal.should_close() && !self.confirmed {
            self.asking = false;
        }
    }

    /// The question is on screen.
    pub fn asking(&self) -> bool {
        self.asking
    }

    /// The person said to quit (tests: the window is about to close).
    pub fn confirmed(&self) -> bool {
        self.confirmed
    }
}
