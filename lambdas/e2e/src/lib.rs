//! Tests only: see `tests/runtime_api.rs`.
