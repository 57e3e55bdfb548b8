//! The bucket backend: AWS or any S3-compatible endpoint, one client built at
//! connect time, every SDK error classified for a person.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use augment_aws::S3Store;
use augment_pipeline::contract::PROCESSED_PREFIX;
use augment_pipeline::sniff::ImageFormat;
use augment_pipeline::{ObjectStore as _, StoreError, UploadKey};
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_s3::primitives::{ByteStream, SdkBody};
use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};

use super::settings::AwsSettings;
use super::{ClientError, ErrorKind, ImageEntry, PAGE_SIZE, Page, Progress, name_of_processed};

/// Attempts per request (the SDK's standard retry mode: exponential backoff with
/// jitter, only for throttling, 5xx, timeouts and connection errors).
pub const MAX_ATTEMPTS: u32 = 4;
/// How long to wait for a TCP/TLS connection before calling the endpoint
/// unreachable (the SDK's 3.1 s default is short on a weak Wi-Fi).
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Region for a custom endpoint that names none: S3-compatible services accept
/// any, and the signature needs one.
pub const CUSTOM_DEFAULT_REGION: &str = "us-east-1";
/// Chunk of an upload body between two progress reports: 64 KiB makes a 10 MiB
/// upload 160 reports, smooth for a bar and cheap.
const PROGRESS_CHUNK_BYTES: usize = 64 * 1024;

#[derive(Debug)]
pub(super) struct S3Backend {
    client: aws_sdk_s3::Client,
    /// Head, get, list, delete: the port on the same client.
    store: S3Store,
    bucket: String,
    endpoint: Option<String>,
}

impl S3Backend {
    /// Loads the AWS config the standard way (env, profile files, SSO), with the
    /// profile, region and endpoint from the settings on top.
    pub(super) async fn connect(
        aws: &AwsSettings,
        endpoint: Option<&str>,
    ) -> Result<Self, ClientError> {
        let bucket = aws.bucket.trim();
        if bucket.is_empty() {
            return Err(ClientError::invalid_settings(
                "No bucket is set. Enter the bucket name in Settings, or import the Terraform outputs.",
            ));
        }
        let mut loader = aws_config::defaults(BehaviorVersion::latest())
            .retry_config(RetryConfig::standard().with_max_attempts(MAX_ATTEMPTS))
            .timeout_config(
                TimeoutConfig::builder()
                    .connect_timeout(CONNECT_TIMEOUT)
                    .build(),
            );
        if let Some(profile) = nonempty(aws.profile.as_deref()) {
            // The SDK would only say "no credentials" later; a name that is not in
            // the files is a settings mistake to name now.
            if !super::settings::aws_profiles()
                .await
                .iter()
                .any(|p| p == profile)
            {
                return Err(ClientError::invalid_settings(format!(
                    "There is no such profile in the AWS config files (~/.aws/config, ~/.aws/credentials). Pick one in Settings, or create it with `aws configure --profile`: {profile}"
                )));
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
                    "The endpoint URL must start with http:// or https://. Correct it in Settings: {endpoint}"
                )));
            }
            loader = loader.endpoint_url(endpoint);
        }
        let mut config = loader.load().await;
        if config.region().is_none() {
            if endpoint.is_none() {
                return Err(ClientError::invalid_settings(
                    "No AWS region is set. Choose the bucket's region in Settings (or set one in the AWS profile).",
                ));
            }
            config = config
                .into_builder()
                .region(Region::new(CUSTOM_DEFAULT_REGION))
                .build();
        }
        Self::from_config(&config, bucket)
    }

    /// From an SDK config the caller built (tests against an emulator, embedders
    /// with their own credential provider).
    pub(super) fn from_config(config: &SdkConfig, bucket: &str) -> Result<Self, ClientError> {
        let bucket = bucket.trim();
        if bucket.is_empty() {
            return Err(ClientError::invalid_settings(
                "No bucket is set. Enter the bucket name in Settings, or import the Terraform outputs.",
            ));
        }
        let endpoint = config.endpoint_url().map(str::to_owned);
        // Path-style with an endpoint (`http://host/bucket/key`): emulators and
        // most S3-compatible services have no wildcard DNS.
        let s3_config = aws_sdk_s3::config::Builder::from(config)
            .force_path_style(endpoint.is_some())
            .build();
        let client = aws_sdk_s3::Client::from_conf(s3_config);
        Ok(Self {
            store: S3Store::new(client.clone(), bucket),
            client,
            bucket: bucket.to_owned(),
            endpoint,
        })
    }

    pub(super) fn describe(&self) -> String {
        match &self.endpoint {
            Some(endpoint) => format!("s3://{} at {endpoint}", self.bucket),
            None => format!("s3://{}", self.bucket),
        }
    }

    fn sdk_error<E>(
        &self,
        op: &'static str,
        target: &str,
        err: aws_sdk_s3::error::SdkError<E, aws_sdk_s3::config::http::HttpResponse>,
    ) -> ClientError
    where
        E: aws_sdk_s3::error::ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    {
        ClientError::from_sdk(op, &self.bucket, target, err)
    }

    fn store_error(&self, err: StoreError) -> ClientError {
        ClientError::from_store_in(&self.bucket, err)
    }

    /// `HeadBucket` (exists, reachable, allowed), then a one-key list. A failed
    /// `HEAD` has no error code (no body), so the list is asked too, for a code
    /// that tells bad credentials from a denied permission.
    pub(super) async fn check(&self) -> Result<(), ClientError> {
        let head = self
            .client
            .head_bucket()
            .bucket(&self.bucket)
            .send()
            .await
            .map_err(|err| self.sdk_error("read", &self.bucket, err));
        let list = self
            .client
            .list_objects_v2()
            .bucket(&self.bucket)
            .prefix(PROCESSED_PREFIX)
            .max_keys(1)
            .send()
            .await
            .map_err(|err| self.sdk_error("list objects", &self.bucket, err));
        list?;
        head.map(drop)
    }

    pub(super) async fn upload(
        &self,
        bytes: Vec<u8>,
        format: ImageFormat,
        upload_key: &UploadKey,
        progress: impl Fn(Progress) + Send + Sync + 'static,
    ) -> Result<(), ClientError> {
        let bytes = Bytes::from(bytes);
        let total_bytes = bytes.len() as u64;
        let Ok(content_length) = i64::try_from(total_bytes) else {
            return Err(ClientError::new(ErrorKind::Other, "The file is too large."));
        };
        let progress: Arc<dyn Fn(Progress) + Send + Sync> = Arc::new(progress);
        // The SDK rebuilds the body for each attempt (and for its retry
        // checkpoint); each body counts from 0, so a retry restarts the bar.
        let body = SdkBody::retryable(move || {
            SdkBody::from_body_1_x(ProgressBody::new(bytes.clone(), progress.clone()))
        });
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(upload_key.as_str())
            .content_type(super::content_type(format))
            .content_length(content_length)
            .body(ByteStream::new(body))
            .send()
            .await
            .map(drop)
            .map_err(|err| self.sdk_error("upload", upload_key.as_str(), err))
    }

    pub(super) async fn list_images(&self, cursor: Option<String>) -> Result<Page, ClientError> {
        let page = self
            .client
            .list_objects_v2()
            .bucket(&self.bucket)
            .prefix(PROCESSED_PREFIX)
            .max_keys(i32::try_from(PAGE_SIZE).unwrap_or(i32::MAX))
            .set_continuation_token(cursor)
            .send()
            .await
            .map_err(|err| self.sdk_error("list objects", &self.bucket, err))?;
        let items = page
            .contents()
            .iter()
            .filter_map(|object| {
                let key = object.key()?;
                Some(ImageEntry {
                    name: name_of_processed(key)?,
                    processed_key: key.to_owned(),
                    size_bytes: object
                        .size()
                        .and_then(|n| u64::try_from(n).ok())
                        .unwrap_or(0),
                    last_modified: object
                        .last_modified()
                        .and_then(|at| std::time::SystemTime::try_from(*at).ok()),
                })
            })
            .collect();
        let next = page
            .is_truncated()
            .unwrap_or(false)
            .then(|| page.next_continuation_token().map(str::to_owned))
            .flatten();
        Ok(Page { items, next })
    }
}

/// Objects through the port's S3 adapter, the one the Lambdas use.
impl super::Store for S3Backend {
    async fn exists(&self, key: &str) -> Result<bool, ClientError> {
        self.store
            .head(key)
            .await
            .map(|info| info.is_some())
            .map_err(|err| self.store_error(err))
    }

    async fn get(&self, key: &str, max_bytes: u64) -> Result<Vec<u8>, ClientError> {
        self.store
            .get(key, max_bytes)
            .await
            .map_err(|err| self.store_error(err))
    }

    async fn list(&self, prefix: &str) -> Result<Vec<String>, ClientError> {
        self.store
            .list(prefix)
            .await
            .map(|found| found.into_iter().map(|info| info.key).collect())
            .map_err(|err| self.store_error(err))
    }

    async fn delete(&self, key: &str) -> Result<(), ClientError> {
        self.store
            .delete(key)
            .await
            .map_err(|err| self.store_error(err))
    }
}

fn nonempty(value: Option<&str>) -> Option<&str> {
    value.map(str::trim).filter(|v| !v.is_empty())
}

/// An upload body that hands the bytes to the HTTP client in chunks and reports
/// the running total after each: progress from bytes actually taken for sending,
/// not from time. One per attempt: it reports 0 when first polled, so a retry
/// visibly starts again.
pub(super) struct ProgressBody {
    data: Bytes,
    sent: usize,
    started: bool,
    progress: Arc<dyn Fn(Progress) + Send + Sync>,
}

impl ProgressBody {
    pub(super) fn new(data: Bytes, progress: Arc<dyn Fn(Progress) + Send + Sync>) -> Self {
        Self {
            data,
            sent: 0,
            started: false,
            progress,
        }
    }

    fn report(&self) {
        (self.progress)(Progress {
            sent_bytes: self.sent as u64,
            total_bytes: self.data.len() as u64,
        });
    }
}

impl Body for ProgressBody {
    type Data = Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = self.get_mut();
        if !this.started {
            this.started = true;
            this.report();
        }
        if this.sent >= this.data.len() {
            return Poll::Ready(None);
        }
        let end = (this.sent + PROGRESS_CHUNK_BYTES).min(this.data.len());
        let chunk = this.data.slice(this.sent..end);
        this.sent = end;
        this.report();
        Poll::Ready(Some(Ok(Frame::data(chunk))))
    }

    fn is_end_stream(&self) -> bool {
        self.started && self.sent >= self.data.len()
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact((self.data.len() - self.sent) as u64)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;

    fn drain(body: &mut SdkBody) -> usize {
        let waker = std::task::Waker::noop();
        let mut cx = Context::from_waker(waker);
        let mut total = 0;
        while let Poll::Ready(Some(frame)) = Pin::new(&mut *body).poll_frame(&mut cx) {
            total += frame.unwrap().into_data().unwrap().len();
        }
        total
    }

    #[test]
    fn progress_rises_to_the_size_and_restarts_from_zero_on_a_retry() {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let record = seen.clone();
        let progress: Arc<dyn Fn(Progress) + Send + Sync> =
            Arc::new(move |p: Progress| record.lock().unwrap().push(p.sent_bytes));
        let data = Bytes::from(vec![1_u8; 150 * 1024]);
        let size = data.len();
        let mut first = SdkBody::retryable(move || {
            SdkBody::from_body_1_x(ProgressBody::new(data.clone(), progress.clone()))
        });
        assert_eq!(first.content_length(), Some(size as u64));
        // The SDK clones the body for a retry before the first attempt is read.
        let mut retry = first.try_clone().unwrap();
        assert!(
            seen.lock().unwrap().is_empty(),
            "nothing reported before sending"
        );

        assert_eq!(drain(&mut first), size);
        assert_eq!(*seen.lock().unwrap(), [0, 65536, 131_072, 153_600]);
        seen.lock().unwrap().clear();
        assert_eq!(drain(&mut retry), size);
        assert_eq!(*seen.lock().unwrap(), [0, 65536, 131_072, 153_600]);
    }
}
