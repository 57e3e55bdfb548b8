//! The build and the final stage of the Lambda images, as lambdas/Dockerfile has
//! them (`check_dockerfile` keeps the two in step). A leaf: the build and the run
//! both read it.

pub(super) const TARGET: &str = "x86_64-unknown-linux-gnu";
/// The Lambdas run on `x86_64`; on an arm64 machine the builder runs emulated.
pub(super) const PLATFORM: &str = "linux/amd64";
pub(super) const PROFILE: &str = "lambda";
pub(super) const RUSTFLAGS: &str = "-C target-feature=+crt-static";
pub(super) const BOOTSTRAP: &str = "/bootstrap";
pub(super) const CA_BUNDLE: &str = "/etc/ssl/certs/ca-certificates.crt";
