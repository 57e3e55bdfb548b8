//! What `status` and `redrive` look at, and their defaults.

use std::time::Duration;

/// Uploads older than this with neither all their outputs nor a record are stuck.
pub const DEFAULT_STUCK_AFTER: Duration = Duration::from_secs(15 * 60);
/// The last uploads whose time to the fourth rotation is measured.
pub const DEFAULT_TIMING_UPLOADS: usize = 100;
/// Stuck uploads `status` names one by one (all are counted).
pub const STATUS_STUCK_NAMED: usize = 50;
/// Stuck uploads one `redrive` re-triggers (run it again for more).
pub const REDRIVE_STUCK_MAX: usize = 10_000;
/// What the original design expects from upload to the rotations for a small
/// image, in seconds.
pub const DESIGN_EXPECTED_SECS: (u64, u64) = (5, 10);

/// What `status` looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatusOptions {
    /// [`DEFAULT_STUCK_AFTER`] unless the person says otherwise.
    pub stuck_after: Duration,
    /// [`DEFAULT_TIMING_UPLOADS`].
    pub timing_uploads: usize,
    /// How many stuck uploads are named (all are counted).
    pub stuck_named: usize,
}

impl Default for StatusOptions {
    fn default() -> Self {
        Self {
            stuck_after: DEFAULT_STUCK_AFTER,
            timing_uploads: DEFAULT_TIMING_UPLOADS,
            stuck_named: STATUS_STUCK_NAMED,
        }
    }
}
