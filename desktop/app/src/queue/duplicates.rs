//! The duplicate question, once per batch.

use super::model::QueueView;
use crate::command::{Command, DuplicateAnswer, TransferCommand};

/// The duplicate question, once per batch: Skip or Keep both, for the rest of
/// the batch.
pub fn duplicates_dialog_ui(ctx: &egui::Context, view: &mut QueueView) -> Option<Command> {
    let (&batch, (count, first)) = view.questions.iter().next()?;
    let mut answer = None;
    egui::Modal::new(egui::Id::unique("duplicates").with(batch)).show(ctx, |ui| {
        ui.set_max_width(420.0);
        ui.heading("Already uploaded or queued");
        let files = if *count == 1 {
            "1 file is".to_owned()
        } else {
            format!("{count} files are")
        };
        ui.label(format!(
            "{files} already in the bucket under the same name with the same content, or already in the queue. {first}"
        ));
        ui.label("The answer holds for the rest of this batch.");
        ui.horizontal(|ui| {
            if ui.button("Skip").clicked() {
                answer = Some(DuplicateAnswer::Skip);
            }
            if ui
                .button("Keep both")
                .on_hover_text("Upload again under a new name (cat-2.jpg)")
                .clicked()
            {
                answer = Some(DuplicateAnswer::KeepBoth);
            }
        });
    });
    let answer = answer?;
    view.questions.remove(&batch);
    view.answered.insert(batch);
    Some(Command::Transfer(TransferCommand::AnswerDuplicates {
        batch,
        answer,
    }))
}
