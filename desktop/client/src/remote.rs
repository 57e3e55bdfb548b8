//! [`Remote`], the backend: its state. What it does is in the files of each
//! job (connecting, names, uploads, listing, watching, deleting and saving).

use std::collections::{HashMap, HashSet};
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex};

use augment_pipeline::ObjectStore;

use crate::local::LocalMode;
use crate::watched::Watching;

/// The backend: built once from the settings, cheap to clone (an `Arc`), `Send +
/// Sync`. Every method is async and meant to run on a Tokio runtime off the UI
/// thread.
#[derive(Debug, Clone)]
pub struct Remote {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    /// The bucket (S3) or the data folder (local): one store, through the port.
    pub(crate) store: Arc<dyn ObjectStore>,
    /// Named in messages where the bucket is the thing to fix; empty in local mode.
    pub(crate) bucket: String,
    /// What [`Remote::describe`] says.
    pub(crate) place: String,
    /// Local mode: the pipeline runs in this process.
    pub(crate) local: Option<LocalMode>,
    /// Names chosen by this process and not yet uploaded, lowercased, so two files
    /// called `cat.jpg` dropped together do not both get `cat`.
    pub(crate) reserved: Mutex<HashSet<String>>,
    /// When each reserved name's upload must stop retrying: its name check's
    /// start plus [`RETRY_BUDGET`], one budget for the whole file.
    pub(crate) deadlines: Mutex<HashMap<String, tokio::time::Instant>>,
    /// The uploads [`Remote::watch`] is watching, served by one poll.
    pub(crate) watching: Mutex<Watching>,
    /// Transient errors tried again, for a summary and for tests.
    pub(crate) retried: AtomicU64,
    /// S3: the same bucket through a one-attempt client, for [`Remote::check`],
    /// and the endpoint an "unreachable" message names.
    pub(crate) probe: Option<(Arc<dyn ObjectStore>, String)>,
}

impl std::fmt::Debug for Inner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Inner")
            .field("place", &self.place)
            .finish_non_exhaustive()
    }
}
