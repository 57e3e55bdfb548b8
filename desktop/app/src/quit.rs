//! Quitting: Ctrl+Q or the window's close button. With files still moving the
//! app asks first (*Quit and finish later* / *Cancel*); what is left is in the
//! saved queue ([`super::journal`]) and resumes at the next start.

use egui::RichText;

/// The quit question's state.
#[derive(Debug, Default)]
pub struct Quit {
    /// The question is on screen.
    asking: bool,
    /// The person said to quit: the next close goes through.
    confirmed: bool,
}

impl Quit {
    /// Ctrl+Q and the window's close request, once a frame. `left`: the rows
    /// still moving. Quits at once when none is, else asks.
    pub fn input(&mut self, ctx: &egui::Context, left: usize) {
        let ctrl_q = ctx.input_mut(|i| {
            i.consume_shortcut(&egui::KeyboardShortcut::new(
                egui::Modifiers::COMMAND,
                egui::Key::Q,
            ))
        });
        let close = ctx.input(|i| i.viewport().close_requested());
        if self.confirmed || left == 0 {
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
    pub fn ui(&mut self, ctx: &egui::Context, left: usize) {
        if !self.asking {
            return;
        }
        if left == 0 {
            // Everything finished while the question was open: nothing to keep.
            self.asking = false;
            ctx.send_viewport_cmd(egui::ViewportCommand::Close);
            return;
        }
        let modal = egui::Modal::new(egui::Id::unique("quit")).show(ctx, |ui| {
            ui.set_max_width(420.0);
            ui.heading("Uploads are still running");
            let files = if left == 1 {
                "1 file is".to_owned()
            } else {
                format!("{left} files are")
            };
            ui.label(format!(
                "{files} not finished. They are kept, and finish the next time you open Augment; nothing already uploaded is sent again."
            ));
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

    /// The person said to quit (tests: the window is about to close).
    pub fn confirmed(&self) -> bool {
        self.confirmed
    }
}
