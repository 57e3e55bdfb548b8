//! Which failed SDK calls are worth retrying, for S3 and SQS alike (they share
//! the error types).

use aws_sdk_s3::config::http::HttpResponse;
use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};

/// Whether a failed SDK call is worth retrying: no response, a timeout, a
/// throttle or a server error. (The SDK has already retried these a few times
/// with backoff; what is left goes back to Lambda, which retries again.)
fn is_transient(kind: ErrorKind, status: Option<u16>, code: Option<&str>) -> bool {
    match kind {
        ErrorKind::NoResponse => true,
        ErrorKind::Service => {
            status.is_some_and(|s| s >= 500 || s == 429)
                || code.is_some_and(|c| {
                    matches!(
                        c,
                        "SlowDown"
                            | "Throttling"
                            | "ThrottlingException"
                            | "RequestThrottled"
                            | "RequestTimeout"
                            | "InternalError"
                            | "ServiceUnavailable"
                    )
                })
        }
        ErrorKind::Construction => false,
    }
}

#[derive(Debug, Clone, Copy)]
enum ErrorKind {
    /// Timeout, dispatch failure, unparseable response.
    NoResponse,
    /// An error response from the service.
    Service,
    /// The request could not be built.
    Construction,
}

/// [`is_transient`] for any SDK error (S3 and SQS share the error types).
pub fn sdk_error_is_transient<E>(err: &SdkError<E, HttpResponse>) -> bool
where
    E: ProvideErrorMetadata,
{
    let status = err.raw_response().map(|r| r.status().as_u16());
    let code = match err {
        SdkError::ServiceError(service) => service.err().code(),
        _ => None,
    };
    let kind = match err {
        SdkError::ServiceError(_) => ErrorKind::Service,
        SdkError::ConstructionFailure(_) => ErrorKind::Construction,
        _ => ErrorKind::NoResponse,
    };
    is_transient(kind, status, code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn throttles_and_server_errors_are_transient_client_errors_are_not() {
        assert!(is_transient(ErrorKind::NoResponse, None, None));
        assert!(is_transient(
            ErrorKind::Service,
            Some(503),
            Some("SlowDown")
        ));
        assert!(is_transient(ErrorKind::Service, Some(500), None));
        assert!(is_transient(
            ErrorKind::Service,
            Some(400),
            Some("ThrottlingException")
        ));
        assert!(!is_transient(
            ErrorKind::Service,
            Some(403),
            Some("AccessDenied")
        ));
        assert!(!is_transient(
            ErrorKind::Service,
            Some(404),
            Some("NoSuchBucket")
        ));
        assert!(!is_transient(ErrorKind::Construction, None, None));
    }
}
