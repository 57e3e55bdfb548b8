//! The settings of AWS mode and custom mode as one SDK config. The store itself
//! is `augment-aws`'s `S3Store`, the one the Lambdas use.

use aws_config::retry::RetryConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_types::sdk_config::{RequestChecksumCalculation, ResponseChecksumValidation};

use crate::advice::{PLACE, Setting};
use crate::error::ClientError;
use crate::settings::{AwsSettings, is_insecure_endpoint};

/// Attempts per request (the SDK's standard retry mode: exponential backoff with
/// jitter, only for throttling, 5xx, timeouts and connection errors).
pub const MAX_ATTEMPTS: u32 = 4;
/// Region for a custom endpoint that names none: S3-compatible services accept
/// any, and the signature needs one.
pub const CUSTOM_DEFAULT_REGION: &str = "us-east-1";

/// The bucket a person entered, trimmed; empty is a settings mistake.
pub(super) fn bucket_name(bucket: &str) -> Result<&str, ClientError> {
    let bucket = bucket.trim();
    if bucket.is_empty() {
        return Err(ClientError::invalid_settings(format!(
            "No bucket is set. Enter the bucket name{PLACE}, or import the Terraform outputs."
        ))
        .advised(&[Setting::Bucket]));
    }
    Ok(bucket)
}

/// Loads the AWS config the standard way (env, profile files, SSO), with the
/// profile, region and endpoint from the settings on top, and the client's
/// retries (the connect timeout is `augment_aws::s3_client`'s). Settings that
/// cannot work are refused here, before any request.
pub(super) async fn sdk_config(
    aws: &AwsSettings,
    endpoint: Option<&str>,
) -> Result<SdkConfig, ClientError> {
    bucket_name(&aws.bucket)?;
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .retry_config(RetryConfig::standard().with_max_attempts(MAX_ATTEMPTS));
    if let Some(profile) = nonempty(aws.profile.as_deref()) {
        // The SDK would only say "no credentials" later; a name that is not in
        // the files is a settings mistake to name now.
        if !crate::settings::aws_profiles()
            .await
            .iter()
            .any(|p| p == profile)
        {
            return Err(ClientError::invalid_settings(format!(
                "There is no such profile in the AWS config files (~/.aws/config, ~/.aws/credentials). Pick one{PLACE}, or create it with `aws configure --profile`: {profile}"
            ))
            .advised(&[Setting::Profile]));
        }
        loader = loader.profile_name(profile);
    }
    if let Some(region) = nonempty(aws.region.as_deref()) {
        loader = loader.region(Region::new(region.to_owned()));
    }
    if let Some(endpoint) = endpoint {
        let endpoint = endpoint.trim();
        if !(endpoint.starts_with("http://") || endpoint.starts_with("https://")) {
            return Err(ClientError::invalid_settings(format!(
                "The endpoint URL must start with http:// or https://. Correct it{PLACE}: {endpoint}"
            ))
            .advised(&[Setting::EndpointUrl]));
        }
        if is_insecure_endpoint(endpoint) && !aws.allow_insecure_http {
            return Err(ClientError::invalid_settings(format!(
                "The endpoint uses plain http:// to another machine: the signed requests and the images would cross the network unencrypted. Use https://, or allow plain HTTP to it{PLACE}: {endpoint}"
            ))
            .advised(&[Setting::AllowHttp]));
        }
        loader = loader.endpoint_url(endpoint);
    }
    let config = loader.load().await;
    if config.region().is_some() {
        return Ok(config);
    }
    if endpoint.is_none() {
        return Err(ClientError::invalid_settings(format!(
            "No AWS region is set. Choose the bucket's region{PLACE}, or set one in the AWS profile."
        ))
        .advised(&[Setting::Region]));
    }
    Ok(config
        .into_builder()
        .region(Region::new(CUSTOM_DEFAULT_REGION))
        .build())
}

/// With a custom endpoint, checksums only where an operation requires one:
/// since 2025 the SDK sends a CRC32 checksum with every upload and validates
/// every download's by default, which several S3-compatible stores refuse or
/// lack (aws-sdk-rust#1240). AWS itself keeps the SDK's default.
pub(super) fn for_endpoint(config: &SdkConfig) -> SdkConfig {
    if config.endpoint_url().is_none() {
        return config.clone();
    }
    config
        .to_builder()
        .request_checksum_calculation(RequestChecksumCalculation::WhenRequired)
        .response_checksum_validation(ResponseChecksumValidation::WhenRequired)
        .build()
}

/// The one-attempt config of "Test connection" (and the CLI's check before a
/// batch): an endpoint that refuses or never answers is reported within
/// [`augment_aws::CONNECT_TIMEOUT`], not after the SDK's attempts and backoff.
pub(super) fn probe_config(config: &SdkConfig) -> SdkConfig {
    config
        .to_builder()
        .retry_config(RetryConfig::standard().with_max_attempts(1))
        .build()
}

/// The endpoint a request goes to, for an "unreachable" message: the configured
/// one, or the region's AWS endpoint.
pub(super) fn endpoint(config: &SdkConfig) -> String {
    match (config.endpoint_url(), config.region()) {
        (Some(endpoint), _) => endpoint.to_owned(),
        (None, Some(region)) => format!("https://s3.{region}.amazonaws.com"),
        (None, None) => "https://s3.amazonaws.com".to_owned(),
    }
}

/// Where uploads go, for a title bar or a log line.
pub(super) fn describe(config: &SdkConfig, bucket: &str) -> String {
    match config.endpoint_url() {
        Some(endpoint) => format!("s3://{bucket} at {endpoint}"),
        None => format!("s3://{bucket}"),
    }
}

fn nonempty(value: Option<&str>) -> Option<&str> {
    value.map(str::trim).filter(|v| !v.is_empty())
}
