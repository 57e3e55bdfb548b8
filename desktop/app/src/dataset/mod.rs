//! Taking the dataset out: *Download all…* (the bucket's layout into a folder,
//! incremental) and *Export dataset…* (a training-ready dataset: image
//! folders, `WebDataset` shards or a manifest; splits; labels), narrowed by the
//! gallery's filter. `crate::dataset_job` is the job itself (as saved; a leaf, so the
//! protocol in `command.rs` carries it without importing this folder), `model.rs` the
//! dialog's draft, the running job and its report (tested without a window); `ui.rs` draws the menu, the dialog
//! and the progress above the queue. The worker runs the job
//! (`worker/dataset.rs`) and keeps it on disk until it ends, so a quit or a
//! crash resumes it at the next start.

mod model;
mod ui;

pub use self::model::{Dataset, Draft, Report, Running};
pub use self::ui::{DatasetAction, dataset_dialog_ui, dataset_menu_ui, dataset_progress_ui};
pub use crate::dataset_job::{DatasetJob, ExportChoices, FormatChoice, JobKind};
