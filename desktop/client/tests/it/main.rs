//! The client library's integration tests, one binary (each extra test binary
//! links the whole dependency graph again): local mode end to end, S3 on moto,
//! the Terraform outputs import.

#![expect(
    clippy::unwrap_used,
    reason = "tests: a panic is a failure with its line"
)]

mod common;
mod dedupe;
mod export;
mod faults;
mod local;
mod s3;
mod terraform;
