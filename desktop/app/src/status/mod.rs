//! The pipeline's status in the app: one line under the header ("Pipeline:
//! 1,204 complete · 3 stuck · 0 dead letters") that opens a panel with the same
//! facts as `augment status` and *Re-drive…* (asked first). The worker asks the
//! bucket and the queues on a timer the model keeps; nothing here waits.

mod model;
mod ui;

pub use model::{PipelineLine, REFRESH_EVERY};
pub use ui::{panel_id, status_line_ui, status_panel_ui};
