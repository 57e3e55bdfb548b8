//! The app's log: a GUI program has no terminal, so tracing writes to a file in
//! the app's own data folder (not the local-mode bucket folder), and Settings
//! shows where it is.

use std::path::PathBuf;

/// The log's file name.
pub const LOG_FILE: &str = "augment-desktop.log";

/// Starts logging (appending) to [`log_path`] at `info` for the app's own crates
/// and `warn` for the rest (`RUST_LOG` chooses otherwise). Returns the file, or
/// `None` when it could not be opened: then the log goes to stderr.
pub fn init() -> Option<PathBuf> {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| {
        tracing_subscriber::EnvFilter::new("warn,augment_desktop=info,augment_client=info")
    });
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    let opened = log_path().and_then(|path| {
        let dir = path.parent()?;
        std::fs::create_dir_all(dir).ok()?;
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .ok()?;
        Some((path, file))
    });
    match opened {
        Some((path, file)) => {
            builder
                .with_ansi(false)
                .with_writer(std::sync::Mutex::new(file))
                .init();
            Some(path)
        }
        None => {
            builder.with_writer(std::io::stderr).init();
            None
        }
    }
}

/// `<data folder>/logs/augment-desktop.log`: the OS's state or local data
/// folder for the app (e.g. `~/.local/state/augment/` on Linux).
pub fn log_path() -> Option<PathBuf> {
    let dirs = directories::ProjectDirs::from("", "", "augment")?;
    let dir = dirs.state_dir().unwrap_or_else(|| dirs.data_local_dir());
    Some(dir.join("logs").join(LOG_FILE))
}
