//! The SDK clients, built once per process: the one place a Lambda's clients
//! come from.

use aws_config::{BehaviorVersion, SdkConfig};

use crate::s3::s3_client;

/// The SDK clients, built once per process and cloned cheaply (they share one
/// connection pool).
#[derive(Debug, Clone)]
pub struct Clients {
    pub s3: aws_sdk_s3::Client,
    pub sqs: aws_sdk_sqs::Client,
}

impl Clients {
    /// From the standard environment: region, credentials chain (env, profiles,
    /// SSO, the Lambda role) and `AWS_ENDPOINT_URL`.
    pub async fn from_env() -> Self {
        let config = aws_config::load_defaults(BehaviorVersion::latest()).await;
        Self::new(&config)
    }

    /// S3 by [`s3_client`] (path-style with an endpoint).
    pub fn new(config: &SdkConfig) -> Self {
        Self {
            s3: s3_client(config),
            sqs: aws_sdk_sqs::Client::new(config),
        }
    }
}
