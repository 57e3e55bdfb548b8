//! Building a [`Remote`] from the settings, and the connection check.

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use augment_aws::S3Store;
use augment_pipeline::contract::PROCESSED_PREFIX;
use augment_pipeline::{ListRequest, ObjectStore, StoreError};

use crate::advice::{PLACE, Setting};
use crate::error::{ClientError, ErrorKind};
use crate::settings::{Mode, Settings};

use crate::remote::{Inner, Remote};
use crate::{local, s3};

/// The endpoint of custom mode (`None` in AWS and local mode); custom mode
/// without one is a settings mistake.
pub(crate) fn custom_endpoint(settings: &Settings) -> Result<Option<&str>, ClientError> {
    if settings.mode != Mode::Custom {
        return Ok(None);
    }
    settings
        .aws
        .endpoint_url
        .as_deref()
        .filter(|url| !url.trim().is_empty())
        .map(Some)
        .ok_or_else(|| {
            ClientError::invalid_settings(format!(
                "A custom endpoint needs its URL, e.g. http://localhost:9000. Enter it{PLACE}."
            ))
            .advised(&[Setting::EndpointUrl])
        })
}

impl Remote {
    /// Builds the backend the settings name. Local: starts the pipeline in the data
    /// folder (uploads are processed in this process, on the calling runtime, one
    /// image per worker thread but one).
    /// S3: loads the AWS config (profile, region, endpoint) and builds the client
    /// once; nothing is sent until the first call ([`Remote::check`] tests it).
    pub async fn connect(settings: &Settings) -> Result<Self, ClientError> {
        if settings.mode == Mode::Local {
            let local = local::LocalMode::start(&settings.data_dir()?)?;
            let store = Arc::new(local.store().clone());
            let place = local.root().display().to_string();
            return Ok(Self::new(store, String::new(), place, Some(local)));
        }
        let config = s3::sdk_config(&settings.aws, custom_endpoint(settings)?).await?;
        Self::with_sdk_config(&config, &settings.aws.bucket)
    }

    /// An S3 backend on an SDK config built by the caller (an emulator's
    /// endpoint and test credentials, or an embedder's own credential provider);
    /// [`Remote::connect`] is the usual way. With an endpoint, checksums are
    /// sent and checked only where an operation requires them.
    pub fn with_sdk_config(
        config: &aws_config::SdkConfig,
        bucket: &str,
    ) -> Result<Self, ClientError> {
        let bucket = s3::bucket_name(bucket)?;
        let config = &s3::for_endpoint(config);
        let mut this = Self::new(
            Arc::new(S3Store::from_config(config, bucket)),
            bucket.to_owned(),
            s3::describe(config, bucket),
            None,
        );
        if let Some(inner) = Arc::get_mut(&mut this.inner) {
            let probe = S3Store::from_config(&s3::probe_config(config), bucket);
            inner.probe = Some((Arc::new(probe), s3::endpoint(config)));
        }
        Ok(this)
    }

    pub(crate) fn new(
        store: Arc<dyn ObjectStore>,
        bucket: String,
        place: String,
        local: Option<local::LocalMode>,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                store,
                bucket,
                place,
                local,
                reserved: Mutex::new(HashSet::new()),
                deadlines: Mutex::new(HashMap::new()),
                watching: Mutex::default(),
                retried: AtomicU64::new(0),
                probe: None,
            }),
        }
    }

    /// An S3-like backend over any store (a fault-injecting one, in tests).
    #[cfg(feature = "testing")]
    pub fn over_store(store: Arc<dyn ObjectStore>, bucket: &str) -> Self {
        Self::new(store, bucket.to_owned(), format!("s3://{bucket}"), None)
    }

    /// How many transient errors this backend has tried again so far (uploads,
    /// downloads, watches).
    pub fn retried(&self) -> u64 {
        self.inner.retried.load(Ordering::Relaxed)
    }

    /// Where uploads go, for a title bar or a log line: a folder or `s3://bucket`.
    pub fn describe(&self) -> String {
        self.inner.place.clone()
    }

    /// The local data folder, in local mode.
    pub fn local_root(&self) -> Option<&Path> {
        self.inner.local.as_ref().map(local::LocalMode::root)
    }

    /// "Test connection": the bucket exists and these credentials may list it (a
    /// one-key list, whose error has a code; S3's `HeadBucket` needs the same
    /// permission and answers without one); local mode: also, the data folder is
    /// writable. S3: one attempt first, so an endpoint that refuses or never
    /// answers is reported within the connect timeout, naming the endpoint; a
    /// throttle or a 5xx then gets the usual attempts.
    pub async fn check(&self) -> Result<(), ClientError> {
        if let Some((probe, _)) = &self.inner.probe {
            match probe
                .list_page(ListRequest::new(PROCESSED_PREFIX, None, 1))
                .await
                .map_err(|err| self.error(err))
            {
                Ok(_) => return Ok(()),
                Err(err) if err.is_transient() && err.kind != ErrorKind::Offline => {}
                Err(err) => return Err(err),
            }
        }
        self.inner
            .store
            .list_page(ListRequest::new(PROCESSED_PREFIX, None, 1))
            .await
            .map_err(|err| self.error(err))?;
        match &self.inner.local {
            Some(local) => local.check_writable().await,
            None => Ok(()),
        }
    }

    /// The one store every bucket operation goes through.
    pub(crate) fn store(&self) -> &dyn ObjectStore {
        self.inner.store.as_ref()
    }

    /// A store call's answer; its error as a person reads it ([`Remote::error`]).
    pub(crate) async fn ask<T>(
        &self,
        call: impl Future<Output = Result<T, StoreError>>,
    ) -> Result<T, ClientError> {
        call.await.map_err(|err| self.error(err))
    }

    /// A store error as a person reads it, classified once from its structure.
    /// "No answer" names the endpoint: the thing to check, not the bucket.
    pub(crate) fn error(&self, err: StoreError) -> ClientError {
        let err = ClientError::from_store_in(&self.inner.bucket, err);
        match &self.inner.probe {
            Some((_, endpoint)) if err.kind == ErrorKind::Offline => err.unreachable(endpoint),
            _ => err,
        }
    }

    pub(crate) async fn exists(&self, key: &str) -> Result<bool, ClientError> {
        self.inner
            .store
            .head(key)
            .await
            .map(|info| info.is_some())
            .map_err(|err| self.error(err))
    }
}
