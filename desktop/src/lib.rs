//! The client side of the pipeline: what the `augment` command line (and the
//! desktop app) share. Finding input files and naming their uploads is in
//! [`inputs`]; running them through the local pipeline is in [`batch`]; the
//! backends (local folder or S3), settings, uploads and the gallery's listing are
//! in [`client`].

pub mod app;
pub mod batch;
pub mod client;
pub mod inputs;
