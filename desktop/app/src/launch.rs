//! How the app was started: its name and what the command line asked for.

use std::path::PathBuf;
use std::time::{Duration, Instant};

/// The window title, also the app id the OS groups windows by.
pub const APP_NAME: &str = "Augment";

/// How the app was started (the command line; tests build it directly).
#[derive(Debug, Default, Clone)]
pub struct Launch {
    /// Where the log goes ([`crate::logging::init`]), shown in Settings.
    pub log_file: Option<PathBuf>,
    /// Files and folders to queue at once, as "Open with" passes them.
    pub files: Vec<PathBuf>,
    /// Save a screenshot here once the queued files' rotations show, then quit.
    pub screenshot: Option<PathBuf>,
    /// Print start-up and frame-time figures once the gallery is listed, then quit.
    pub measure: bool,
    /// When the process started, for the time to first frame.
    pub started: Option<Instant>,
    /// How long to wait for an upload's rotations; `None`: [`crate::worker::WATCH_TIMEOUT`].
    pub watch_timeout: Option<Duration>,
    /// Where the queue is kept between runs ([`crate::journal`]); `None`: not kept.
    pub queue_file: Option<PathBuf>,
}
