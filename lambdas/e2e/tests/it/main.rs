//! The end-to-end tests, one binary (each extra test binary links the whole
//! dependency graph again, here the AWS SDK and both pipelines' crates).

mod chaos;
mod iam;
mod operate;
mod runtime_api;
mod terraform_contract;
mod terraform_stack;
