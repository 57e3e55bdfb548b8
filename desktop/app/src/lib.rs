//! The desktop app: drop images, watch them upload and come back as four
//! rotations, browse everything processed so far.
//!
//! The rooms (ARCHITECTURE.md has the map): [`app`] composes the window from
//! the queue, the gallery and the settings, each a model apart from its
//! drawing; [`command`] is what they ask the [`worker`] for and what it
//! answers; the worker runs every disk and network job off the UI thread. The
//! unattended runs (`--screenshot`, `--measure`) are the [`harness`]'s business.

pub mod app;
pub mod command;
pub mod dataset;
pub mod dataset_job;
pub mod file_dialog;
pub mod focus;
pub mod fonts;
pub mod format;
pub mod gallery;
pub mod harness;
pub mod journal;
pub mod launch;
pub mod logging;
pub mod queue;
pub mod quit;
mod reveal;
pub mod settings_ui;
pub mod status;
pub mod style;
pub mod thumbs;
pub mod window;
pub mod worker;

pub use self::app::DesktopApp;
pub use self::harness::Outcome;
pub use self::launch::{APP_NAME, Launch};
