//! The transfer queue: one compact row per file, from the checks through the
//! upload to the pipeline's four rotations (or the reason there are none), under
//! the batch summary; a Failed view with every reason; each row's context menu.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use augment_client::Mode;
use augment_pipeline::{Angle, UploadKey};
use egui::{RichText, TextureHandle, Ui, Vec2};

use super::format::{format_bytes, format_rate, percent};
use super::summary::{self, BatchClock, Counts};
use super::worker::{BatchId, Command, DuplicateAnswer, TransferId, WATCH_TIMEOUT};
use super::{Palette, empty_state_ui, gallery};

/// Side of the file's thumbnail in a queue row, in points.
const ROW_THUMB_PT: f32 = 28.0;
/// Height of one row, in points: 12 and more fit in the default window.
pub const ROW_PT: f32 = 38.0;
/// Side of each rotation's thumbnail when a row is expanded, in points.
const ROTATION_THUMB_PT: f32 = 40.0;
/// The extra height of an expanded row (its four rotations).
const EXPANDED_PT: f32 = ROTATION_THUMB_PT + 8.0;
/// Rate is shown once this much of the upload has been seen: before that the
/// estimate jumps about.
const RATE_WARMUP: Duration = Duration::from_millis(300);

/// Where one file is.
#[derive(Debug, Clone, PartialEq)]
pub enum State {
    /// Reading the file: size, type by content.
    Checking,
    /// Passed the checks, waiting for an upload slot (or the connection).
    Queued,
    /// The same bytes are already uploaded or queued (`existing` says where):
    /// waiting for Skip or Keep both.
    Duplicate {
        existing: String,
    },
    Uploading {
        sent_bytes: u64,
        total_bytes: u64,
        started: Instant,
    },
    /// Uploaded; waiting for the pipeline's rotations.
    Processing,
    Done,
    /// Not uploaded, or not processed: `reason` in words, `code` for the report
    /// (`too_large`, `timed_out`, `offline`…). `retry` when trying again can help.
    Failed {
        reason: String,
        code: String,
        retry: bool,
    },
    /// Not uploaded: a duplicate, and the person said to skip those.
    Skipped {
        existing: String,
    },
    Cancelled,
    /// Done, then deleted from the bucket (here or from the gallery).
    Deleted,
}

impl State {
    /// Still moving: can be cancelled, and holds the screenshot back.
    pub fn is_active(&self) -> bool {
        matches!(
            self,
            Self::Checking
                | Self::Queued
                | Self::Duplicate { .. }
                | Self::Uploading { .. }
                | Self::Processing
        )
    }

    pub fn is_failed(&self) -> bool {
        matches!(self, Self::Failed { .. })
    }

    /// Trying again can help (a transient failure, a cancelled row).
    pub fn can_retry(&self) -> bool {
        matches!(self, Self::Failed { retry: true, .. } | Self::Cancelled)
    }

    /// The state's one word in the report.
    pub fn word(&self) -> &'static str {
        match self {
            Self::Checking => "checking",
            Self::Queued => "queued",
            Self::Duplicate { .. } => "duplicate",
            Self::Uploading { .. } => "uploading",
            Self::Processing => "processing",
            Self::Done => "done",
            Self::Failed { .. } => "failed",
            Self::Skipped { .. } => "skipped",
            Self::Cancelled => "cancelled",
            Self::Deleted => "deleted",
        }
    }

    /// What the status line says.
    pub fn describe(&self) -> String {
        match self {
            Self::Checking => "Checking…".to_owned(),
            Self::Queued => "Queued".to_owned(),
            Self::Duplicate { existing } => format!("Duplicate, {existing}: skip or keep both?"),
            Self::Uploading {
                sent_bytes,
                total_bytes,
                started,
            } => {
                if sent_bytes >= total_bytes {
                    // Sent; the store is writing it. No rate or time left here.
                    return "Uploaded, finishing…".to_owned();
                }
                let mut text = format!("Uploading {} %", percent(*sent_bytes, *total_bytes));
                let elapsed = started.elapsed();
                if elapsed >= RATE_WARMUP && *sent_bytes > 0 {
                    let rate = *sent_bytes as f64 / elapsed.as_secs_f64();
                    text.push_str(&format!(" · {}", format_rate(rate)));
                }
                text
            }
            Self::Processing => "Processing…".to_owned(),
            Self::Done => "Done".to_owned(),
            Self::Failed { reason, .. } => reason.clone(),
            Self::Skipped { existing } => format!("Skipped: {existing}"),
            Self::Cancelled => "Cancelled".to_owned(),
            Self::Deleted => "Deleted from the bucket".to_owned(),
        }
    }
}

/// One file in the queue.
pub struct Transfer {
    pub id: TransferId,
    /// The run it belongs to ([`QueueView::run`]): the summary counts one run.
    pub run: u64,
    /// The drop (or dialog, or command line) it came with.
    pub batch: BatchId,
    /// The upload name (`trip/beach.jpg`).
    pub name: String,
    pub path: PathBuf,
    pub size_bytes: Option<u64>,
    pub thumb: Option<TextureHandle>,
    pub state: State,
    /// `original-uploads/…`, once uploaded (kept after it is done).
    pub upload_key: Option<String>,
    /// The keys of the rotations that have landed, in [`Angle::ALL`] order; their
    /// textures live in the gallery's bounded cache, loaded when shown.
    pub rotations: [Option<String>; 4],
}

impl Transfer {
    /// The image's name in the bucket contract (`trip/beach`), once uploaded.
    pub fn image_name(&self) -> Option<String> {
        let key = UploadKey::parse(self.upload_key.as_deref()?).ok()?;
        Some(key.name().to_owned())
    }
}

/// Which rows the list shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Filter {
    #[default]
    All,
    Failed,
}

/// The queue's own state beside the rows: the view, the expanded rows, pause,
/// the batch clock and the duplicate questions waiting for an answer.
#[derive(Default)]
pub struct QueueView {
    pub filter: Filter,
    pub expanded: HashSet<TransferId>,
    pub paused: bool,
    pub clock: BatchClock,
    /// Per batch: how many files are duplicates, and the first one's words.
    pub questions: BTreeMap<BatchId, (usize, String)>,
    /// Batches whose question is answered: a duplicate found while the answer
    /// was on its way does not ask again.
    pub answered: HashSet<BatchId>,
    /// The run the summary counts: rows added while the queue was idle start
    /// the next one, and so does *Clear finished*.
    pub run: u64,
    /// What the last *Clear finished* removed, in words, until the next run.
    pub cleared: Option<String>,
}

impl QueueView {
    /// The run a row added now belongs to: the next one when nothing in the
    /// list is still moving.
    pub fn run_for_new_row(&mut self, transfers: &[Transfer]) -> u64 {
        if !transfers.iter().any(|t| t.state.is_active()) {
            self.run += 1;
            self.cleared = None;
        }
        self.run
    }

    /// *Clear finished*: removes the finished rows that did not fail, says how
    /// many, and starts a new run (what is kept belongs to the old one).
    pub fn clear_finished(&mut self, transfers: &mut Vec<Transfer>) {
        let before = transfers.len();
        transfers.retain(|t| !clears(&t.state));
        let removed = before - transfers.len();
        let kept = transfers.iter().filter(|t| t.state.is_failed()).count();
        let rows = |n: usize| if n == 1 { "row" } else { "rows" };
        let mut text = format!("Cleared {removed} finished {}", rows(removed));
        if kept > 0 {
            text.push_str(&format!("; kept {kept} {} that failed", rows(kept)));
        }
        // Rows still moving carry on in the new run; the kept failures stay
        // in the old one.
        self.run += 1;
        for transfer in transfers.iter_mut().filter(|t| t.state.is_active()) {
            transfer.run = self.run;
        }
        self.cleared = Some(text);
    }
    /// A row of `batch` waits for the duplicate question.
    pub fn ask(&mut self, batch: BatchId, name: &str, existing: &str) {
        if self.answered.contains(&batch) {
            return;
        }
        let question = self
            .questions
            .entry(batch)
            .or_insert_with(|| (0, format!("{name} is {existing}.")));
        question.0 += 1;
    }
}

/// What the queue's buttons and menus asked for.
pub enum RowAction {
    Send(Command),
    Remove(TransferId),
    /// *Clear finished*.
    ClearFinished,
    /// Open the gallery's detail view of this image name.
    Open(String),
    /// Ask to delete this image name (the gallery's confirmation).
    Delete(String),
}

/// The message when the pipeline did not answer in time: what to check, in
/// the words of the mode in use (no build commands; CloudWatch only on AWS).
pub fn timeout_message(mode: Mode) -> String {
    let secs = WATCH_TIMEOUT.as_secs();
    let advice = match mode {
        Mode::Local => {
            "The local pipeline may have stopped: restart the app, then Retry (it keeps watching the same upload)."
        }
        Mode::Aws => {
            "Retry keeps watching the same upload. If it still does not come, check in the AWS console that the bucket's upload trigger and the two Lambdas are deployed, and look at the Lambdas' CloudWatch logs."
        }
        Mode::Custom => {
            "Retry keeps watching the same upload. This endpoint must run the processing pipeline on each upload (an S3 event or webhook to the image processor): ask whoever runs it whether that is set up."
        }
    };
    format!("Uploaded, but no rotations appeared within {secs} s. {advice}")
}

/// The queue panel: the batch summary and its buttons, the view, the rows.
/// `offline`: the connection failed, so queued files say what they wait for.
/// `local_root`: the data folder in local mode ("Reveal in file manager").
pub fn queue_ui(
    ui: &mut Ui,
    transfers: &[Transfer],
    view: &mut QueueView,
    offline: bool,
    local_root: Option<&Path>,
    textures: Textures<'_>,
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
    summary::summary_ui(
        ui,
        transfers,
        view.run,
        view.cleared.as_deref(),
        &view.clock,
        palette,
    );
    let counts = Counts::of(transfers, view.run);
    buttons_ui(ui, transfers, view, &counts, &mut actions);
    // The tabs count the whole list, earlier runs too.
    let failed_rows = transfers.iter().filter(|t| t.state.is_failed()).count();
    ui.horizontal(|ui| {
        ui.selectable_value(
            &mut view.filter,
            Filter::All,
            format!("All ({})", transfers.len()),
        );
        let failed = RichText::new(format!("Failed ({failed_rows})"));
        let failed = if failed_rows > 0 {
            failed.color(palette.error)
        } else {
            failed
        };
        ui.selectable_value(&mut view.filter, Filter::Failed, failed);
    });
    ui.separator();
    let ctx = RowContext {
        offline,
        local_root,
        paused: view.paused,
        palette,
    };
    match view.filter {
        Filter::All => all_rows_ui(ui, transfers, view, &ctx, textures, &mut actions),
        Filter::Failed => failed_rows_ui(ui, transfers, &ctx, textures, &mut actions),
    }
    actions
}

/// Pause, Cancel all, Retry failed, Clear finished, and the report.
fn buttons_ui(
    ui: &mut Ui,
    transfers: &[Transfer],
    view: &mut QueueView,
    counts: &Counts,
    actions: &mut Vec<RowAction>,
) {
    ui.horizontal_wrapped(|ui| {
        let pause = if view.paused { "Resume" } else { "Pause" };
        if ui
            .small_button(pause)
            .on_hover_text("Hold the uploads not started yet; the ones running finish")
            .clicked()
        {
            view.paused = !view.paused;
            actions.push(RowAction::Send(Command::Pause(view.paused)));
        }
        if ui
            .add_enabled(counts.left > 0, egui::Button::new("Cancel all").small())
            .clicked()
        {
            for transfer in transfers.iter().filter(|t| t.state.is_active()) {
                actions.push(RowAction::Send(Command::Cancel(transfer.id)));
            }
        }
        let retryable = transfers.iter().filter(|t| t.state.can_retry()).count();
        if ui
            .add_enabled(retryable > 0, egui::Button::new("Retry failed").small())
            .on_hover_text("Retry every failed row that trying again can help")
            .clicked()
        {
            for transfer in transfers.iter().filter(|t| t.state.can_retry()) {
                actions.push(RowAction::Send(Command::Retry(transfer.id)));
            }
        }
        let clearable = transfers.iter().filter(|t| clears(&t.state)).count();
        if ui
            .add_enabled(clearable > 0, egui::Button::new("Clear finished").small())
            .on_hover_text("Remove the finished rows; failed ones stay with their reasons")
            .clicked()
        {
            actions.push(RowAction::ClearFinished);
        }
        if ui
            .small_button("Copy report")
            .on_hover_text("Every row as CSV: file, key, state, code, message")
            .clicked()
        {
            ui.ctx().copy_text(super::report::csv(transfers));
        }
        if ui.small_button("Save report…").clicked() {
            actions.push(RowAction::Send(Command::SaveReport(super::report::csv(
                transfers,
            ))));
        }
    });
}

/// "Clear finished" removes these: finished, and not failed.
fn clears(state: &State) -> bool {
    !state.is_active() && !state.is_failed()
}

/// The texture of a key from the app's bounded cache (loaded on demand).
pub type Textures<'a> = &'a mut dyn FnMut(&str) -> Option<TextureHandle>;

/// What every row needs besides itself.
struct RowContext<'a> {
    offline: bool,
    local_root: Option<&'a Path>,
    paused: bool,
    palette: &'a Palette,
}

/// Every row, only the visible ones built (1,000 rows cost what 20 do).
fn all_rows_ui(
    ui: &mut Ui,
    transfers: &[Transfer],
    view: &mut QueueView,
    ctx: &RowContext<'_>,
    textures: Textures<'_>,
    actions: &mut Vec<RowAction>,
) {
    let height_of = |transfer: &Transfer| {
        if view.expanded.contains(&transfer.id) {
            ROW_PT + EXPANDED_PT
        } else {
            ROW_PT
        }
    };
    let total: f32 = transfers.iter().map(height_of).sum();
    let mut toggled = Vec::new();
    egui::ScrollArea::vertical()
        .auto_shrink([false, false])
        .show_viewport(ui, |ui, viewport| {
            let width = ui.available_width();
            let (whole, _) = ui.allocate_exact_size(egui::vec2(width, total), egui::Sense::hover());
            let mut top = 0.0;
            for transfer in transfers {
                let height = height_of(transfer);
                let (start, end) = (top, top + height);
                top = end;
                if end < viewport.min.y || start > viewport.max.y {
                    continue;
                }
                let rect = egui::Rect::from_min_size(
                    whole.min + egui::vec2(0.0, start),
                    egui::vec2(width, height),
                );
                let expanded = view.expanded.contains(&transfer.id);
                ui.scope_builder(egui::UiBuilder::new().max_rect(rect), |ui| {
                    if row_ui(ui, transfer, expanded, false, ctx, &mut *textures, actions) {
                        toggled.push(transfer.id);
                    }
                });
            }
        });
    for id in toggled {
        if !view.expanded.remove(&id) {
            view.expanded.insert(id);
        }
    }
}

/// The failed rows, each with its whole reason (there are few).
fn failed_rows_ui(
    ui: &mut Ui,
    transfers: &[Transfer],
    ctx: &RowContext<'_>,
    textures: Textures<'_>,
    actions: &mut Vec<RowAction>,
) {
    let failed: Vec<&Transfer> = transfers.iter().filter(|t| t.state.is_failed()).collect();
    if failed.is_empty() {
        ui.label(RichText::new("Nothing failed.").color(ctx.palette.muted));
        return;
    }
    egui::ScrollArea::vertical()
        .auto_shrink([false, false])
        .show(ui, |ui| {
            for transfer in failed {
                row_ui(ui, transfer, false, true, ctx, &mut *textures, actions);
                ui.separator();
            }
        });
}

/// One row: thumbnail, name and status, the row's buttons; the rotations below
/// when `expanded`; the whole reason when `full_reason`. Returns whether the
/// expand toggle was clicked.
fn row_ui(
    ui: &mut Ui,
    transfer: &Transfer,
    expanded: bool,
    full_reason: bool,
    ctx: &RowContext<'_>,
    textures: Textures<'_>,
    actions: &mut Vec<RowAction>,
) -> bool {
    let palette = ctx.palette;
    let mut toggle = false;
    let row = ui.horizontal(|ui| {
        ui.set_min_height(ROW_PT - 4.0);
        let thumb = thumb_with_sense(
            ui,
            transfer.thumb.as_ref(),
            ROW_THUMB_PT,
            &transfer.name,
            palette,
            egui::Sense::click(),
        );
        let image_name = transfer.image_name();
        if let Some(thumb) = thumb {
            let thumb = thumb.on_hover_cursor(egui::CursorIcon::PointingHand);
            if thumb.clicked()
                && transfer.state == State::Done
                && let Some(name) = &image_name
            {
                actions.push(RowAction::Open(name.clone()));
            }
            thumb.context_menu(|ui| row_menu_ui(ui, transfer, ctx.local_root, actions));
        }
        ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
            row_buttons_ui(ui, transfer, actions);
            if matches!(transfer.state, State::Processing | State::Done) {
                let arrow = if expanded {
                    "Hide rotations"
                } else {
                    "Rotations"
                };
                if ui.small_button(arrow).clicked() {
                    toggle = true;
                }
            }
            ui.with_layout(egui::Layout::top_down(egui::Align::Min), |ui| {
                ui.spacing_mut().item_spacing.y = 1.0;
                let mut title = transfer.name.clone();
                if let Some(size) = transfer.size_bytes {
                    title.push_str(&format!(" · {}", format_bytes(size)));
                }
                let name = ui.add(
                    egui::Label::new(RichText::new(title).strong())
                        .truncate()
                        .sense(egui::Sense::click()),
                );
                let name = name.on_hover_text(&transfer.name);
                name.context_menu(|ui| row_menu_ui(ui, transfer, ctx.local_root, actions));
                let color = match &transfer.state {
                    State::Failed { .. } => palette.error,
                    State::Done => palette.success,
                    _ => palette.muted,
                };
                let mut status = transfer.state.describe();
                if transfer.state == State::Queued {
                    if ctx.offline {
                        status.push_str(": not connected, see the message at the top or Settings");
                    } else if ctx.paused {
                        status.push_str(" (paused)");
                    }
                }
                let label = egui::Label::new(RichText::new(&status).small().color(color));
                if full_reason {
                    ui.add(label.wrap());
                } else {
                    ui.add(label.truncate()).on_hover_text(status);
                }
            });
        });
    });
    if let State::Uploading {
        sent_bytes,
        total_bytes,
        ..
    } = &transfer.state
    {
        // A thin bar along the row's foot.
        let rect = row.response.rect;
        let fraction = if *total_bytes == 0 {
            1.0
        } else {
            *sent_bytes as f32 / *total_bytes as f32
        };
        let bar = egui::Rect::from_min_size(
            egui::pos2(rect.left(), rect.bottom() - 2.0),
            egui::vec2(rect.width() * fraction, 2.0),
        );
        ui.painter().rect_filled(bar, 0.0, palette.accent);
    }
    if expanded {
        rotations_ui(ui, transfer, textures, palette);
    }
    toggle
}

/// Cancel while it moves (a processing row stops being watched; the upload
/// stays), else Retry where it can help and Remove.
fn row_buttons_ui(ui: &mut Ui, transfer: &Transfer, actions: &mut Vec<RowAction>) {
    if transfer.state.is_active() {
        if ui.small_button("Cancel").clicked() {
            actions.push(RowAction::Send(Command::Cancel(transfer.id)));
        }
        return;
    }
    if ui
        .small_button("Remove")
        .on_hover_text("Remove the row from the list; what was uploaded stays")
        .clicked()
    {
        actions.push(RowAction::Remove(transfer.id));
    }
    if transfer.state.can_retry() && ui.small_button("Retry").clicked() {
        actions.push(RowAction::Send(Command::Retry(transfer.id)));
    }
}

/// The row's context menu: Open, Save to folder…, Copy key, Copy file path,
/// Reveal in file manager (local mode), Delete…, Remove from list.
fn row_menu_ui(
    ui: &mut Ui,
    transfer: &Transfer,
    local_root: Option<&Path>,
    actions: &mut Vec<RowAction>,
) {
    let name = transfer.image_name();
    let done = transfer.state == State::Done;
    if ui
        .add_enabled(done && name.is_some(), egui::Button::new("Open"))
        .clicked()
        && let Some(name) = &name
    {
        actions.push(RowAction::Open(name.clone()));
        ui.close();
    }
    if ui
        .add_enabled(done && name.is_some(), egui::Button::new("Save to folder…"))
        .clicked()
        && let Some(name) = &name
    {
        let keys = Angle::ALL
            .iter()
            .map(|angle| gallery::rotation_key(name, *angle))
            .collect();
        actions.push(RowAction::Send(Command::SaveRotations { keys }));
        ui.close();
    }
    if ui
        .add_enabled(transfer.upload_key.is_some(), egui::Button::new("Copy key"))
        .clicked()
        && let Some(key) = &transfer.upload_key
    {
        ui.ctx().copy_text(key.clone());
        ui.close();
    }
    if ui.button("Copy file path").clicked() {
        ui.ctx().copy_text(transfer.path.display().to_string());
        ui.close();
    }
    if let Some(root) = local_root {
        let stored = transfer
            .upload_key
            .as_deref()
            .map(|key| key.split('/').fold(root.to_owned(), |path, s| path.join(s)));
        if ui
            .add_enabled(
                stored.is_some(),
                egui::Button::new("Reveal in file manager"),
            )
            .clicked()
            && let Some(stored) = stored
        {
            actions.push(RowAction::Send(Command::Reveal(stored)));
            ui.close();
        }
    }
    if ui
        .add_enabled(
            name.is_some() && !transfer.state.is_active(),
            egui::Button::new("Delete…"),
        )
        .on_hover_text("Delete the upload and its rotations from the bucket (asks first)")
        .clicked()
        && let Some(name) = &name
    {
        actions.push(RowAction::Delete(name.clone()));
        ui.close();
    }
    if ui
        .add_enabled(
            !transfer.state.is_active(),
            egui::Button::new("Remove from list"),
        )
        .clicked()
    {
        actions.push(RowAction::Remove(transfer.id));
        ui.close();
    }
}

/// The four rotations as they land; an empty frame for each still to come.
fn rotations_ui(ui: &mut Ui, transfer: &Transfer, textures: Textures<'_>, palette: &Palette) {
    ui.horizontal(|ui| {
        ui.add_space(ROW_THUMB_PT + 8.0);
        for (angle, key) in Angle::ALL.iter().zip(&transfer.rotations) {
            let alt = format!("{} rotated {}°", transfer.name, angle.degrees());
            let texture = key.as_deref().and_then(&mut *textures);
            thumb_ui(ui, texture.as_ref(), ROTATION_THUMB_PT, &alt, palette);
            ui.label(
                RichText::new(format!("{}°", angle.degrees()))
                    .small()
                    .color(palette.muted),
            );
        }
    });
}

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
    Some(Command::AnswerDuplicates { batch, answer })
}

/// A square thumbnail, or a placeholder of the same size while it loads.
pub fn thumb_ui(
    ui: &mut Ui,
    texture: Option<&TextureHandle>,
    side_pt: f32,
    alt: &str,
    palette: &Palette,
) {
    let _ = thumb_with_sense(ui, texture, side_pt, alt, palette, egui::Sense::hover());
}

/// [`thumb_ui`] sensing `sense`; the response is the image's (none for the
/// placeholder).
fn thumb_with_sense(
    ui: &mut Ui,
    texture: Option<&TextureHandle>,
    side_pt: f32,
    alt: &str,
    palette: &Palette,
    sense: egui::Sense,
) -> Option<egui::Response> {
    let size = Vec2::splat(side_pt);
    if let Some(texture) = texture {
        // Centred in a fixed square, so tall and wide images keep the columns
        // beside them aligned.
        return Some(
            ui.add_sized(
                size,
                egui::Image::new(texture)
                    .fit_to_exact_size(size)
                    .maintain_aspect_ratio(true)
                    .corner_radius(4.0)
                    .alt_text(alt)
                    .sense(sense),
            ),
        );
    }
    let (rect, _) = ui.allocate_exact_size(size, egui::Sense::hover());
    ui.painter().rect_filled(rect, 4.0, palette.placeholder);
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_upload_reads_percent_and_rate_and_never_100_with_time_left() {
        let state = State::Uploading {
            sent_bytes: 2 * 1024 * 1024,
            total_bytes: 8 * 1024 * 1024,
            started: Instant::now() - Duration::from_secs(2),
        };
        let text = state.describe();
        assert!(text.starts_with("Uploading 25 % · "), "{text}");
        assert!(text.ends_with("/s"), "{text}");
        let early = State::Uploading {
            sent_bytes: 10,
            total_bytes: 100,
            started: Instant::now(),
        };
        assert_eq!(early.describe(), "Uploading 10 %");
        let sent = State::Uploading {
            sent_bytes: 100,
            total_bytes: 100,
            started: Instant::now() - Duration::from_secs(2),
        };
        assert_eq!(sent.describe(), "Uploaded, finishing…");
    }

    #[test]
    fn the_timeout_message_fits_the_mode() {
        for mode in [Mode::Local, Mode::Aws, Mode::Custom] {
            let text = timeout_message(mode);
            assert!(!text.contains("cargo"), "{text}");
            assert_eq!(text.contains("CloudWatch"), mode == Mode::Aws, "{text}");
            assert!(text.contains("Retry"), "{text}");
        }
        assert!(timeout_message(Mode::Local).contains("restart the app"));
    }
}
