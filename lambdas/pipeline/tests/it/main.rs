//! The pipeline's integration tests, one binary (each extra test binary links the
//! whole dependency graph again).

#![expect(
    clippy::unwrap_used,
    reason = "test helpers fail the test on setup errors"
)]

mod fuzz_corpus;
mod imaging;
mod png_budget;
mod steps;
mod support;
