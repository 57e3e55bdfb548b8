//! One error type for everything the client does, classified so the app and the
//! command line can say what to do: no credentials, access denied, no such bucket,
//! offline, bad settings, a rejected file.

use std::error::Error as StdError;
use std::sync::Arc;

use augment_pipeline::ports::Failure;
use augment_pipeline::{Rejection, StoreError};

use crate::advice::{self, Anywhere, PLACE, Place, Setting, SettingSet, Surface};

/// [`ClientError`]'s `place_at` when its message names no place.
const NO_PLACE: u32 = u32::MAX;

/// What went wrong, as far as the person can act on it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ErrorKind {
    /// The credential chain (env, profile, SSO) found nothing usable.
    NoCredentials,
    /// Credentials were sent but refused (unknown key, bad signature, expired).
    BadCredentials,
    /// The credentials work but may not do this (403).
    AccessDenied,
    /// The bucket does not exist (or not at this endpoint).
    NoSuchBucket,
    /// No answer: no network, DNS, the endpoint is down, a timeout.
    Offline,
    /// The settings cannot work (empty bucket, no region, bad endpoint URL, the
    /// bucket is in another region).
    InvalidSettings,
    /// The file is not an upload the pipeline would take (type, size, name).
    Rejected(Rejection),
    /// There is no object at the key asked for.
    NotFound,
    /// The object is larger than the caller's limit, so it was not read (at a
    /// pipeline output's key: not something the pipeline wrote).
    TooLarge,
    /// A file on this machine could not be read or written.
    Io,
    /// Anything else (a server error the SDK's retries did not get past…).
    Other,
}

impl ErrorKind {
    /// The stable code of this kind (the app's report, scripts): a rejection's
    /// own code (`too_large`, `corrupt`…), else the kind's (`offline`…).
    pub fn code(&self) -> &str {
        match self {
            Self::NoCredentials => "no_credentials",
            Self::BadCredentials => "bad_credentials",
            Self::AccessDenied => "access_denied",
            Self::NoSuchBucket => "no_such_bucket",
            Self::Offline => "offline",
            Self::InvalidSettings => "invalid_settings",
            Self::Rejected(rejection) => rejection.code.as_str(),
            Self::NotFound => "not_found",
            Self::TooLarge => "object_too_large",
            Self::Io => "io",
            Self::Other => "other",
        }
    }
}

/// An error with a plain message that says what to do. `Clone` and `Send` so the
/// app can keep it in its state and pass it between threads.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct ClientError {
    pub kind: ErrorKind,
    /// A sentence or two for a person: what failed, what to do, the sensitive
    /// part (path, key, URL) last. A setting to change is named "in the
    /// settings"; a front end says where with [`ClientError::words`].
    pub message: String,
    /// Worth trying again later: a timeout, a throttle, a server error.
    pub transient: bool,
    /// Where `message` names the place of the settings that fix it
    /// ([`NO_PLACE`]: it does not), and those settings; two small fields, so
    /// the error stays small.
    place_at: u32,
    settings: SettingSet,
    /// Shared, so the error stays cheap to clone.
    #[source]
    source: Option<Arc<dyn StdError + Send + Sync>>,
}

impl ClientError {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        let transient = matches!(kind, ErrorKind::Offline);
        Self {
            kind,
            message: message.into(),
            transient,
            place_at: NO_PLACE,
            settings: SettingSet::default(),
            source: None,
        }
    }

    /// This error's message says where `settings` are changed at its
    /// [`advice::PLACE`]; each front end words that place.
    #[must_use]
    pub(crate) fn advised(mut self, settings: &[Setting]) -> Self {
        let (message, place) = advice::place(std::mem::take(&mut self.message), settings);
        self.message = message;
        if let Some(place) = place {
            (self.place_at, self.settings) = (place.at, place.settings);
        }
        self
    }

    /// The settings that fix this error (none: no setting will).
    pub fn settings(&self) -> Vec<Setting> {
        self.settings.to_vec()
    }

    /// The message in a front end's words: where the settings that fix it
    /// are changed there.
    pub fn words(&self, surface: &dyn Surface) -> String {
        advice::worded(&self.message, self.place(), surface)
    }

    fn place(&self) -> Option<Place> {
        (self.place_at != NO_PLACE).then_some(Place {
            at: self.place_at,
            settings: self.settings,
        })
    }

    #[must_use]
    pub fn with_source(mut self, source: impl StdError + Send + Sync + 'static) -> Self {
        self.source = Some(Arc::new(source));
        self
    }

    /// Whether trying again later can help. Bad input and bad settings never.
    pub fn is_transient(&self) -> bool {
        self.transient
    }

    /// The message followed by the technical causes, for logs and `--verbose`.
    pub fn detail(&self) -> String {
        self.detail_in(&Anywhere)
    }

    /// [`ClientError::detail`] in a front end's words.
    pub fn detail_in(&self, surface: &dyn Surface) -> String {
        let words = self.words(surface);
        match &self.source {
            Some(source) => format!(
                "{words} ({})",
                augment_pipeline::error_chain(source.as_ref())
            ),
            None => words,
        }
    }

    /// This transient error, after `tries` tries over `spent`: the cause stays,
    /// the message says it was tried for that long.
    #[must_use]
    pub(crate) fn gave_up(mut self, tries: u32, spent: std::time::Duration) -> Self {
        let again = format!(
            "Still failing after {tries} tries in {} s. ",
            spent.as_secs()
        );
        self.message.insert_str(0, &again);
        if self.place_at != NO_PLACE {
            let shift = u32::try_from(again.len()).unwrap_or(NO_PLACE);
            self.place_at = self.place_at.saturating_add(shift);
        }
        self
    }

    /// An "offline" error that names the endpoint nothing answered at.
    #[must_use]
    pub(crate) fn unreachable(mut self, endpoint: &str) -> Self {
        self.message = format!(
            "No answer from the storage service. Check the network connection and the endpoint URL{PLACE}, then try again: {endpoint}"
        );
        self.advised(&[Setting::EndpointUrl])
    }

    pub fn rejected(rejection: Rejection) -> Self {
        Self::new(ErrorKind::Rejected(rejection.clone()), rejection.message)
    }

    /// A file on this machine: what failed, the OS's words, the path last.
    pub fn io(what: &str, path: &std::path::Path, err: std::io::Error) -> Self {
        Self::new(ErrorKind::Io, format!("{what}: {err}: {}", path.display())).with_source(err)
    }

    pub(crate) fn invalid_settings(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::InvalidSettings, message)
    }

    pub(crate) fn no_credentials() -> Self {
        Self::new(
            ErrorKind::NoCredentials,
            format!(
                "No AWS credentials found. Run `aws configure` or `aws sso login`, or pick a profile{PLACE}."
            ),
        )
        .advised(&[Setting::Profile])
    }

    pub(crate) fn no_such_bucket(bucket: &str) -> Self {
        Self::new(
            ErrorKind::NoSuchBucket,
            format!(
                "The bucket does not exist. Check the bucket name and region{PLACE}, or import the Terraform outputs: {bucket}"
            ),
        )
        .advised(&[Setting::Bucket, Setting::Region])
    }

    /// From a store port error where no bucket is to blame (a folder).
    pub(crate) fn from_store(err: StoreError) -> Self {
        Self::from_store_in("", err)
    }

    /// From a store port error, classified once from its structure: what the
    /// service said (code, HTTP status), whether it answered at all, and its
    /// causes (a credentials error). `bucket` is named where the bucket is the
    /// thing to fix, and for a list (its prefix alone would say nothing).
    pub(crate) fn from_store_in(bucket: &str, err: StoreError) -> Self {
        let this = match &err {
            StoreError::NotFound { key } => Self::new(
                ErrorKind::NotFound,
                format!("There is no such object (it may have been deleted): {key}"),
            ),
            StoreError::TooLarge { key, limit_bytes } => Self::new(
                ErrorKind::TooLarge,
                format!("The object is larger than the {limit_bytes}-byte limit: {key}"),
            ),
            StoreError::InvalidKey { key, reason } => Self::new(
                ErrorKind::InvalidSettings,
                format!("This name cannot be stored ({reason}). Rename the file: {key}"),
            ),
            StoreError::Backend {
                op,
                key,
                failure,
                transient,
                source,
            } => Self::from_backend(
                op_words(op),
                bucket,
                if is_list(op) && !bucket.is_empty() {
                    bucket
                } else {
                    key
                },
                failure,
                *transient,
                source.as_ref(),
            ),
        };
        this.with_source(err)
    }

    fn from_backend(
        op: &str,
        bucket: &str,
        target: &str,
        failure: &Failure,
        transient: bool,
        source: &(dyn StdError + 'static),
    ) -> Self {
        let (code, status) = match failure {
            Failure::Service { code, status } => (code.as_deref(), *status),
            _ => (None, None),
        };
        let class = classify(failure, source);
        let mut this = match class {
            Class::NoCredentials => Self::no_credentials(),
            Class::BadCredentials => {
                let code = code.unwrap_or("403");
                Self::new(ErrorKind::BadCredentials, format!("AWS refused the credentials ({code}). Run `aws configure` or `aws sso login` again, or pick another profile{PLACE}."))
                    .advised(&[Setting::Profile])
            }
            Class::AccessDenied => Self::new(ErrorKind::AccessDenied, format!("Access denied: these credentials may not {op} in this bucket. Pick a profile{PLACE} that has access, or ask for the bucket's policy to allow it: {bucket}"))
                .advised(&[Setting::Profile]),
            Class::NoSuchBucket => Self::no_such_bucket(bucket),
            Class::WrongRegion => Self::invalid_settings(format!("The bucket is in another region. Set its region{PLACE}: {bucket}"))
                .advised(&[Setting::Region]),
            Class::Offline => Self::new(ErrorKind::Offline, format!("No answer from the storage service. Check the network connection (and the endpoint URL{PLACE}), then try again: {target}"))
                .advised(&[Setting::EndpointUrl]),
            Class::BadEndpoint => Self::invalid_settings(format!("The request could not be made. Check the region and endpoint URL{PLACE}: {target}"))
                .advised(&[Setting::Region, Setting::EndpointUrl]),
            Class::Other => Self::other(op, target, (code, status), transient),
        };
        // The adapter's judgement for what is left over; a missing credential is
        // "no answer" to the SDK, but waiting will not fix it.
        this.transient = match class {
            Class::Offline => true,
            Class::Other => transient,
            _ => false,
        };
        this
    }

    /// A failure no class covers: the service's code (or HTTP status) as it
    /// said it, and whether trying again may help.
    fn other(op: &str, target: &str, said: (Option<&str>, Option<u16>), transient: bool) -> Self {
        let what = match said {
            (Some(code), _) => format!(" ({code})"),
            (None, Some(status)) => format!(" (HTTP {status})"),
            (None, None) => String::new(),
        };
        let again = if transient {
            "; try again in a moment"
        } else {
            ""
        };
        Self::new(
            ErrorKind::Other,
            format!("{op} failed{what}{again}: {target}"),
        )
    }
}

fn is_list(op: &str) -> bool {
    matches!(op, "ListObjectsV2" | "list")
}

/// The port's operation names (the SDK's) as a person says them.
fn op_words(op: &str) -> &str {
    match op {
        "HeadObject" | "GetObject" | "HeadBucket" | "head" | "get" => "read",
        "ListObjectsV2" | "list" => "list objects",
        "PutObject" | "put" | "import" => "write",
        "DeleteObject" | "delete" => "delete",
        other => other,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Class {
    NoCredentials,
    BadCredentials,
    AccessDenied,
    NoSuchBucket,
    WrongRegion,
    Offline,
    BadEndpoint,
    Other,
}

/// S3 error codes for credentials that were sent but refused.
const BAD_CREDENTIAL_CODES: &[&str] = &[
    "InvalidAccessKeyId",
    "SignatureDoesNotMatch",
    "ExpiredToken",
    "InvalidToken",
    "TokenRefreshRequired",
];

fn classify(failure: &Failure, source: &(dyn StdError + 'static)) -> Class {
    match failure {
        Failure::Service { code, status } => match (code.as_deref(), *status) {
            (Some(code), _) if BAD_CREDENTIAL_CODES.contains(&code) => Class::BadCredentials,
            // HEAD responses have no body, so no code: the status alone.
            (Some("NoSuchBucket"), _) | (None, Some(404)) => Class::NoSuchBucket,
            (
                Some(
                    "PermanentRedirect"
                    | "AuthorizationHeaderMalformed"
                    | "IllegalLocationConstraintException",
                ),
                _,
            )
            | (None, Some(301)) => Class::WrongRegion,
            (Some("AccessDenied" | "AllAccessDisabled" | "AccountProblem"), _)
            | (None, Some(403)) => Class::AccessDenied,
            _ => Class::Other,
        },
        _ if mentions_credentials(source) => Class::NoCredentials,
        Failure::NoAnswer => Class::Offline,
        Failure::Request => Class::BadEndpoint,
        Failure::Other => Class::Other,
    }
}

/// Whether the cause is the credential chain: identity resolution fails before
/// the request is sent, and the SDK reports a `CredentialsError` among the causes.
fn mentions_credentials(err: &(dyn StdError + 'static)) -> bool {
    let mut next = Some(err);
    while let Some(cause) = next {
        if cause
            .downcast_ref::<aws_credential_types::provider::error::CredentialsError>()
            .is_some()
        {
            return true;
        }
        next = cause.source();
    }
    false
}

#[cfg(test)]
mod tests {
    use aws_sdk_s3::config::http::HttpResponse;
    use aws_sdk_s3::error::{ErrorMetadata, SdkError};
    use aws_sdk_s3::operation::list_objects_v2::ListObjectsV2Error;
    use aws_sdk_s3::primitives::SdkBody;

    use super::*;

    /// A failed listing, as `S3Store` reports it.
    fn listing(bucket: &str, err: SdkError<ListObjectsV2Error, HttpResponse>) -> ClientError {
        ClientError::from_store_in(
            bucket,
            augment_aws::store_error("ListObjectsV2", "processed/", err),
        )
    }

    fn service(status: u16, code: Option<&str>) -> ClientError {
        let mut meta = ErrorMetadata::builder();
        if let Some(code) = code {
            meta = meta.code(code);
        }
        let response = HttpResponse::new(status.try_into().unwrap(), SdkBody::empty());
        let err = SdkError::service_error(ListObjectsV2Error::generic(meta.build()), response);
        listing("my-bucket", err)
    }

    #[test]
    fn service_errors_become_what_a_person_can_act_on() {
        let cases = [
            (
                403,
                Some("AccessDenied"),
                ErrorKind::AccessDenied,
                "may not list objects",
            ),
            (403, None, ErrorKind::AccessDenied, "Access denied"),
            (
                403,
                Some("InvalidAccessKeyId"),
                ErrorKind::BadCredentials,
                "aws configure",
            ),
            (
                403,
                Some("SignatureDoesNotMatch"),
                ErrorKind::BadCredentials,
                "aws sso login",
            ),
            (
                400,
                Some("ExpiredToken"),
                ErrorKind::BadCredentials,
                "refused",
            ),
            (
                404,
                Some("NoSuchBucket"),
                ErrorKind::NoSuchBucket,
                "does not exist",
            ),
            (404, None, ErrorKind::NoSuchBucket, "does not exist"),
            (
                301,
                Some("PermanentRedirect"),
                ErrorKind::InvalidSettings,
                "another region",
            ),
            (301, None, ErrorKind::InvalidSettings, "another region"),
            (
                400,
                Some("AuthorizationHeaderMalformed"),
                ErrorKind::InvalidSettings,
                "region",
            ),
            (503, Some("SlowDown"), ErrorKind::Other, "try again"),
        ];
        for (status, code, kind, says) in cases {
            let err = service(status, code);
            assert_eq!(err.kind, kind, "{status} {code:?}");
            assert!(
                err.message.contains(says),
                "{status} {code:?}: {}",
                err.message
            );
            if kind != ErrorKind::BadCredentials {
                assert!(err.message.ends_with("my-bucket"), "{}", err.message);
            }
            assert_eq!(err.is_transient(), status == 503, "{status} {code:?}");
        }
    }

    #[test]
    fn no_answer_is_offline_and_transient() {
        let err: SdkError<ListObjectsV2Error, HttpResponse> =
            SdkError::timeout_error("attempt timed out");
        let err = listing("b", err);
        assert_eq!(err.kind, ErrorKind::Offline);
        assert!(err.is_transient());
    }

    #[test]
    fn a_missing_credential_is_found_among_the_causes() {
        let inner = aws_credential_types::provider::error::CredentialsError::not_loaded("none");
        let err: SdkError<ListObjectsV2Error, HttpResponse> = SdkError::dispatch_failure(
            aws_sdk_s3::error::ConnectorError::other(Box::new(inner), None),
        );
        let err = listing("b", err);
        assert_eq!(err.kind, ErrorKind::NoCredentials, "{}", err.detail());
        assert!(!err.is_transient());
    }

    #[test]
    fn an_object_over_the_limit_is_its_own_kind_with_its_own_code() {
        let err = ClientError::from_store(StoreError::TooLarge {
            key: "processed/a_256x256.jpg".to_owned(),
            limit_bytes: 1024,
        });
        assert_eq!(err.kind, ErrorKind::TooLarge);
        assert_eq!(err.kind.code(), "object_too_large");
        assert!(!err.is_transient());
        let rejected = ClientError::rejected(Rejection::too_large(11 << 20));
        assert_eq!(rejected.kind.code(), "too_large");
    }

    #[test]
    fn errors_are_cloneable_and_sendable_for_the_ui() {
        fn handle<T: Clone + Send + Sync + 'static>() {}
        handle::<ClientError>();
        handle::<crate::remote::Remote>();
        handle::<crate::watched::WatchEvent>();
        handle::<crate::listing::Page<crate::listing::ImageEntry>>();
    }
}
