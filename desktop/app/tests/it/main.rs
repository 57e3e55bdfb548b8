//! The desktop app's integration tests, one binary.

#![expect(
    clippy::unwrap_used,
    reason = "tests: a panic is a failure with its line"
)]

mod common;
mod dataset;
mod keyboard;
mod layout;
mod retest;
mod status;
mod transfer;
mod ui;
