//! The transfer queue: one compact row per file, from the checks through the
//! upload to the pipeline's four rotations (or the reason there are none),
//! under the batch summary; a Failed view with every reason.
//!
//! `model.rs` is a row's state and the queue's own (runs, filter, pause, the
//! duplicate questions), tested without a window; `summary.rs` counts a run, `clock.rs` times it,
//! `report.rs` writes the CSV, `ui.rs` draws the panel, `row.rs` a row with its menu,
//! `duplicates.rs` asks the duplicate question.

mod clock;
mod duplicates;
mod model;
mod outcome;
pub mod report;
mod row;
pub mod summary;
mod ui;

pub use self::duplicates::duplicates_dialog_ui;
pub use self::model::{Filter, QueueView, State, Transfer, timeout_message};
pub use self::outcome::{DUPLICATE, FailureCode};
pub use self::row::{ROW_PT, RowAction, Textures};
pub use self::ui::queue_ui;
