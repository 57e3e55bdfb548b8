//! The object store on S3.

use std::collections::HashMap;

use augment_pipeline::ports::{Failure, ObjectInfo, ObjectStore, PutObject, StoreError};
use aws_sdk_s3::error::SdkError;
use aws_sdk_s3::primitives::ByteStream;

use crate::sdk_error_is_transient;

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

    pub fn bucket(&self) -> &str {
        &self.bucket
    }
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

impl ObjectStore for S3Store {
    async fn head(&self, key: &str) -> Result<Option<ObjectInfo>, StoreError> {
        let result = self
            .client
            .head_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await;
        match result {
            Ok(head) => Ok(Some(ObjectInfo {
                key: key.to_owned(),
                size_bytes: head
                    .content_length()
                    .and_then(|n| u64::try_from(n).ok())
                    .unwrap_or(0),
            })),
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

    async fn get(&self, key: &str, max_bytes: u64) -> Result<Vec<u8>, StoreError> {
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
        let stated = output
            .content_length()
            .and_then(|n| u64::try_from(n).ok())
            .unwrap_or(0);
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
    }

    async fn put(&self, object: PutObject) -> Result<(), StoreError> {
        let metadata: HashMap<String, String> = object
            .metadata
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect();
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(&object.key)
            .content_type(object.content_type)
            .set_metadata(Some(metadata))
            .body(ByteStream::from(object.body))
            .send()
            .await
            .map(drop)
            .map_err(|err| store_error("PutObject", &object.key, err))
    }

    async fn list(&self, prefix: &str) -> Result<Vec<ObjectInfo>, StoreError> {
        let mut pages = self
            .client
            .list_objects_v2()
            .bucket(&self.bucket)
            .prefix(prefix)
            .into_paginator()
            .send();
        let mut found = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|err| store_error("ListObjectsV2", prefix, err))?;
            for object in page.contents() {
                let Some(key) = object.key() else { continue };
                let size_bytes = object
                    .size()
                    .and_then(|n| u64::try_from(n).ok())
                    .unwrap_or(0);
                found.push(ObjectInfo {
                    key: key.to_owned(),
                    size_bytes,
                });
            }
        }
        found.sort_by(|a, b| a.key.cmp(&b.key));
        Ok(found)
    }

    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        self.client
            .delete_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
            .map(drop)
            .map_err(|err| store_error("DeleteObject", key, err))
    }
}
