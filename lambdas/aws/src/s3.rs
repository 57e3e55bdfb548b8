//! The object store on S3.

use std::collections::HashMap;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::SystemTime;

use augment_pipeline::ports::{
    Failure, ListPage, ListRequest, ObjectInfo, ObjectStore, OnSent, PutObject, StoreError,
    StoreFuture,
};
use aws_config::SdkConfig;
use aws_sdk_s3::error::SdkError;
use aws_sdk_s3::primitives::{ByteStream, DateTime, SdkBody};
use bytes::Bytes;
use http_body::{Frame, SizeHint};

use crate::transient::sdk_error_is_transient;

/// Most keys one `ListObjectsV2` returns (S3's own ceiling).
const MAX_KEYS_PER_LIST: usize = 1000;
/// Chunk of an upload body between two progress reports: 64 KiB makes a 10 MiB
/// upload 160 reports, smooth for a bar and cheap.
const PROGRESS_CHUNK_BYTES: usize = 64 * 1024;

/// One bucket. Cheap to clone and to make per bucket: the client is shared.
#[derive(Debug, Clone)]
pub struct S3Store {
    client: aws_sdk_s3::Client,
    bucket: String,
}

impl S3Store {
    pub fn new(client: aws_sdk_s3::Client, bucket: impl Into<String>) -> Self {
        Self {
            client,
            bucket: bucket.into(),
        }
    }

    /// On a client built from `config` by [`s3_client`].
    pub fn from_config(config: &SdkConfig, bucket: impl Into<String>) -> Self {
        Self::new(s3_client(config), bucket)
    }

    pub fn bucket(&self) -> &str {
        &self.bucket
    }

    /// `Ok(false)` when `if_absent` and the key was taken (`412`).
    async fn put_object(&self, object: PutObject, if_absent: bool) -> Result<bool, StoreError> {
        let PutObject {
            key,
            body,
            content_type,
            metadata,
            tags,
            on_sent,
        } = object;
        let tagging = (!tags.is_empty()).then(|| tagging(&tags));
        let metadata: HashMap<String, String> = metadata
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect();
        let body = Bytes::from(body);
        let content_length = i64::try_from(body.len()).unwrap_or(i64::MAX);
        // Dropping this future (a cancel) must stop the body too: the HTTP
        // client sends it from its connection task, which would otherwise send
        // the rest and let the store keep the object. A body that fails mid-way
        // is cut off, and S3 stores nothing from an interrupted PUT.
        let cancel = CancelOnDrop::default();
        let cancelled = cancel.0.clone();
        let body = SdkBody::retryable(move || {
            SdkBody::from_body_1_x(ProgressBody::new(
                body.clone(),
                on_sent.clone(),
                cancelled.clone(),
            ))
        });
        let result = self
            .client
            .put_object()
            .bucket(&self.bucket)
            .key(&key)
            .content_type(content_type)
            .content_length(content_length)
            .set_metadata(Some(metadata))
            .set_tagging(tagging)
            .set_if_none_match(if_absent.then(|| "*".to_owned()))
            .body(ByteStream::new(body))
            .send()
            .await;
        drop(cancel);
        match result {
            Ok(_) => Ok(true),
            Err(err)
                if if_absent
                    && err
                        .raw_response()
                        .is_some_and(|r| r.status().as_u16() == 412) =>
            {
                Ok(false)
            }
            Err(err) => Err(store_error("PutObject", &key, err)),
        }
    }
}

/// How long a TCP (and TLS) connection to S3 may take before the endpoint counts
/// as unreachable: a regional endpoint or a LAN emulator connects in
/// milliseconds, and a person who mistyped an endpoint hears of it in 2 s, not
/// after the SDK's attempts at its 3.1 s default each.
pub const CONNECT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(2);

/// The one way an S3 client is made from an SDK config: with an endpoint set (an
/// emulator or an S3-compatible service) it uses path-style addressing,
/// `http://host/bucket/key`, which works without wildcard DNS; connections time
/// out after [`CONNECT_TIMEOUT`] (the config's other timeouts are kept).
pub fn s3_client(config: &SdkConfig) -> aws_sdk_s3::Client {
    let timeouts = config
        .timeout_config()
        .map(aws_sdk_s3::config::timeout::TimeoutConfig::to_builder)
        .unwrap_or_default()
        .connect_timeout(CONNECT_TIMEOUT)
        .build();
    let s3_config = aws_sdk_s3::config::Builder::from(config)
        .force_path_style(config.endpoint_url().is_some())
        .timeout_config(timeouts)
        .build();
    aws_sdk_s3::Client::from_conf(s3_config)
}

/// A failed S3 call as the port's error: the service's code and HTTP status, or
/// why there was no answer, and whether a retry can help; the SDK error itself
/// stays the source (its causes, e.g. a credentials error, can be looked at).
pub fn store_error<E>(
    op: &'static str,
    key: &str,
    err: SdkError<E, aws_sdk_s3::config::http::HttpResponse>,
) -> StoreError
where
    E: aws_sdk_s3::error::ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let failure = match &err {
        SdkError::ServiceError(service) => Failure::Service {
            code: service.err().code().map(str::to_owned),
            status: Some(service.raw().status().as_u16()),
        },
        SdkError::TimeoutError(_) => Failure::NoAnswer,
        SdkError::DispatchFailure(failure) if failure.is_io() || failure.is_timeout() => {
            Failure::NoAnswer
        }
        SdkError::DispatchFailure(failure) if failure.is_user() => Failure::Request,
        SdkError::ConstructionFailure(_) => Failure::Request,
        _ => Failure::Other,
    };
    StoreError::Backend {
        op,
        key: key.to_owned(),
        failure,
        transient: sdk_error_is_transient(&err),
        source: Box::new(err),
    }
}

impl S3Store {
    /// One `HeadObject`; `None` when there is no object at `key`.
    async fn head_object(
        &self,
        key: &str,
    ) -> Result<Option<aws_sdk_s3::operation::head_object::HeadObjectOutput>, StoreError> {
        let (client, bucket) = (&self.client, &self.bucket);
        let result = client.head_object().bucket(bucket).key(key).send().await;
        match result {
            Ok(head) => Ok(Some(head)),
            Err(err)
                if err.as_service_error().is_some_and(
                    aws_sdk_s3::operation::head_object::HeadObjectError::is_not_found,
                ) =>
            {
                Ok(None)
            }
            Err(err) => Err(store_error("HeadObject", key, err)),
        }
    }
}

impl ObjectStore for S3Store {
    fn head<'a>(&'a self, key: &'a str) -> StoreFuture<'a, Option<ObjectInfo>> {
        Box::pin(async move {
            Ok(self.head_object(key).await?.map(|head| ObjectInfo {
                key: key.to_owned(),
                size_bytes: size(head.content_length()),
                last_modified: time(head.last_modified()),
            }))
        })
    }

    fn get<'a>(&'a self, key: &'a str, max_bytes: u64) -> StoreFuture<'a, Vec<u8>> {
        Box::pin(async move {
            let too_large = || StoreError::TooLarge {
                key: key.to_owned(),
                limit_bytes: max_bytes,
            };
            let result = self
                .client
                .get_object()
                .bucket(&self.bucket)
                .key(key)
                .send()
                .await;
            let output = match result {
                Ok(output) => output,
                Err(err)
                    if err.as_service_error().is_some_and(
                        aws_sdk_s3::operation::get_object::GetObjectError::is_no_such_key,
                    ) =>
                {
                    return Err(StoreError::NotFound {
                        key: key.to_owned(),
                    });
                }
                Err(err) => return Err(store_error("GetObject", key, err)),
            };
            let stated = size(output.content_length());
            if stated > max_bytes {
                return Err(too_large());
            }
            // The stated length is checked above; the limit is enforced again on
            // what actually arrives.
            let capacity = usize::try_from(stated.min(max_bytes)).unwrap_or(0);
            let mut bytes = Vec::with_capacity(capacity);
            let mut body = output.body;
            while let Some(chunk) = body.next().await {
                let chunk = chunk.map_err(|err| StoreError::Backend {
                    op: "GetObject",
                    key: key.to_owned(),
                    failure: Failure::NoAnswer,
                    transient: true,
                    source: err.into(),
                })?;
                if (bytes.len() + chunk.len()) as u64 > max_bytes {
                    return Err(too_large());
                }
                bytes.extend_from_slice(&chunk);
            }
            Ok(bytes)
        })
    }

    /// One `PutObject` (objects here are at most 10 MiB: no multipart), and S3
    /// stores nothing from an interrupted one. The body is rebuilt for each SDK
    /// attempt (and its retry checkpoint), each counting [`PutObject::on_sent`]
    /// from 0. Tags go in the same request (`x-amz-tagging`, which S3 authorises
    /// as `s3:PutObjectTagging` too).
    fn put(&self, object: PutObject) -> StoreFuture<'_, ()> {
        Box::pin(async move { self.put_object(object, false).await.map(drop) })
    }

    /// The same `PutObject` with `If-None-Match: *` (S3 conditional writes):
    /// S3 answers `412 PreconditionFailed` when the key is taken, atomically.
    fn put_if_absent(&self, object: PutObject) -> StoreFuture<'_, bool> {
        Box::pin(self.put_object(object, true))
    }

    fn list_page<'a>(&'a self, request: ListRequest<'a>) -> StoreFuture<'a, ListPage> {
        Box::pin(async move {
            let ListRequest {
                prefix,
                cursor,
                max_keys,
            } = request;
            let max_keys = i32::try_from(max_keys.clamp(1, MAX_KEYS_PER_LIST)).unwrap_or(1);
            let page = self
                .client
                .list_objects_v2()
                .bucket(&self.bucket)
                .prefix(prefix)
                .max_keys(max_keys)
                .set_continuation_token(cursor.map(str::to_owned))
                .send()
                .await
                .map_err(|err| store_error("ListObjectsV2", prefix, err))?;
            let objects = page
                .contents()
                .iter()
                .filter_map(|object| {
                    Some(ObjectInfo {
                        key: object.key()?.to_owned(),
                        size_bytes: size(object.size()),
                        last_modified: time(object.last_modified()),
                    })
                })
                .collect();
            let next = page
                .is_truncated()
                .unwrap_or(false)
                .then(|| page.next_continuation_token().map(str::to_owned))
                .flatten();
            Ok(ListPage { objects, next })
        })
    }

    /// One `HeadObject`: S3 hands back the user metadata with the size.
    fn head_metadata<'a>(&'a self, key: &'a str) -> StoreFuture<'a, Option<Vec<(String, String)>>> {
        Box::pin(async move {
            Ok(self.head_object(key).await?.map(|head| {
                head.metadata()
                    .into_iter()
                    .flatten()
                    .map(|(name, value)| (name.to_ascii_lowercase(), value.clone()))
                    .collect()
            }))
        })
    }

    /// One `GetObjectTagging`: allowed by `s3:GetObjectTagging`, which may be
    /// granted where `s3:GetObject` is not.
    fn object_tags<'a>(&'a self, key: &'a str) -> StoreFuture<'a, Option<Vec<(String, String)>>> {
        Box::pin(async move {
            let (client, bucket) = (&self.client, &self.bucket);
            let result = client
                .get_object_tagging()
                .bucket(bucket)
                .key(key)
                .send()
                .await;
            match result {
                Ok(output) => Ok(Some(
                    output
                        .tag_set()
                        .iter()
                        .map(|tag| (tag.key().to_owned(), tag.value().to_owned()))
                        .collect(),
                )),
                Err(err)
                    if err
                        .as_service_error()
                        .and_then(aws_sdk_s3::error::ProvideErrorMetadata::code)
                        == Some("NoSuchKey") =>
                {
                    Ok(None)
                }
                Err(err) => Err(store_error("GetObjectTagging", key, err)),
            }
        })
    }

    fn delete<'a>(&'a self, key: &'a str) -> StoreFuture<'a, ()> {
        Box::pin(async move {
            self.client
                .delete_object()
                .bucket(&self.bucket)
                .key(key)
                .send()
                .await
                .map(drop)
                .map_err(|err| store_error("DeleteObject", key, err))
        })
    }
}

/// Tags as S3's `x-amz-tagging` header takes them: a URL query string.
fn tagging(tags: &[(&'static str, String)]) -> String {
    let encode = |text: &str| {
        percent_encoding::utf8_percent_encode(text, percent_encoding::NON_ALPHANUMERIC).to_string()
    };
    tags.iter()
        .map(|(name, value)| format!("{}={}", encode(name), encode(value)))
        .collect::<Vec<_>>()
        .join("&")
}

/// A length S3 states (never negative in practice).
fn size(stated: Option<i64>) -> u64 {
    stated.and_then(|n| u64::try_from(n).ok()).unwrap_or(0)
}

fn time(at: Option<&DateTime>) -> Option<SystemTime> {
    at.and_then(|at| SystemTime::try_from(*at).ok())
}

/// An upload body that hands the bytes to the HTTP client in chunks and reports
/// the running total after each: progress from bytes actually taken for sending,
/// not from time. One per attempt: it reports 0 when first polled, so a retry
/// visibly starts again.
struct ProgressBody {
    data: Bytes,
    sent: usize,
    started: bool,
    on_sent: Option<OnSent>,
    /// Set when the upload's future is dropped: the body fails at its next chunk.
    cancelled: Arc<AtomicBool>,
}

/// Sets its flag when dropped, with the future that owns it.
#[derive(Default)]
struct CancelOnDrop(Arc<AtomicBool>);

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

/// What a cancelled upload's body fails with, so the request is cut off.
#[derive(Debug, thiserror::Error)]
#[error("the upload was cancelled")]
struct Cancelled;

impl ProgressBody {
    fn new(data: Bytes, on_sent: Option<OnSent>, cancelled: Arc<AtomicBool>) -> Self {
        Self {
            data,
            sent: 0,
            started: false,
            on_sent,
            cancelled,
        }
    }

    fn report(&self) {
        if let Some(on_sent) = &self.on_sent {
            on_sent.report(self.sent as u64);
        }
    }
}

impl http_body::Body for ProgressBody {
    type Data = Bytes;
    type Error = Cancelled;

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
        if this.cancelled.load(Ordering::Relaxed) {
            return Poll::Ready(Some(Err(Cancelled)));
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

    use http_body::Body as _;

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
    fn a_cancelled_body_fails_at_its_next_chunk() {
        let cancel = CancelOnDrop::default();
        let mut body =
            ProgressBody::new(Bytes::from(vec![1_u8; 150 * 1024]), None, cancel.0.clone());
        let waker = std::task::Waker::noop();
        let mut cx = Context::from_waker(waker);
        assert!(matches!(
            Pin::new(&mut body).poll_frame(&mut cx),
            Poll::Ready(Some(Ok(_)))
        ));
        drop(cancel);
        assert!(matches!(
            Pin::new(&mut body).poll_frame(&mut cx),
            Poll::Ready(Some(Err(Cancelled)))
        ));
    }

    #[test]
    fn progress_rises_to_the_size_and_restarts_from_zero_on_a_retry() {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let record = seen.clone();
        let on_sent = Some(OnSent::new(move |sent| record.lock().unwrap().push(sent)));
        let data = Bytes::from(vec![1_u8; 150 * 1024]);
        let size = data.len();
        let mut first = SdkBody::retryable(move || {
            SdkBody::from_body_1_x(ProgressBody::new(
                data.clone(),
                on_sent.clone(),
                Arc::default(),
            ))
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
