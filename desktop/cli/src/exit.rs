//! The exit statuses every subcommand shares (each one's help says which it
//! gives when).

use std::process::ExitCode;

/// Any input was rejected or failed, or the bucket cannot be reached.
const SOME_FAILED: u8 = 1;
/// A usage or settings error (clap exits with it too).
const USAGE: u8 = 2;

pub fn some_failed() -> ExitCode {
    ExitCode::from(SOME_FAILED)
}

pub fn usage() -> ExitCode {
    ExitCode::from(USAGE)
}
