//! The pipeline's integration tests, one binary (each extra test binary links the
//! whole dependency graph again).

#![expect(
    clippy::unwrap_used,
    reason = "test helpers fail the test on setup errors"
)]

#[cfg(target_os = "linux")]
mod budget;
mod dc_skip;
mod fuzz_corpus;
mod handles;
mod imaging;
#[cfg(target_os = "linux")]
mod jpeg_budget;
mod libjpeg_turbo;
mod order;
mod parser_corpus;
mod png_budget;
mod rotation_exact;
mod rotations;
mod steps;
mod support;
mod unchanged_exact;
