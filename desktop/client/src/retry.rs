//! Trying a whole operation again after a transient error (a throttle, a 5xx, a
//! dropped connection, a body cut mid-download), with jittered exponential
//! backoff, until a deadline. The SDK already retries each request a few times;
//! this is the layer above it, so that a burst of faults longer than the SDK's
//! attempts does not fail a file. Which errors are transient is decided once, by
//! [`ClientError::is_transient`].

use std::hash::{BuildHasher as _, Hasher as _};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

// Tokio's clock, so that tests with paused time see the pauses pass.
use tokio::time::Instant;

use crate::error::ClientError;

/// How long one file's upload may spend retrying transient errors, from the start
/// of its name check to the end of its PUT (the name check's list and `HEAD`s,
/// then the PUT), and one download (a thumbnail, a "Save to folder…" object, an
/// `--out` output). Long enough to ride out an S3 `SlowDown` burst or a Wi-Fi
/// reconnect; short enough that a dead endpoint fails each file within a
/// minute, with the last error's cause.
pub const RETRY_BUDGET: Duration = Duration::from_secs(60);
/// The first pause after a transient error; each later pause doubles, up to
/// [`RETRY_MAX_DELAY`], and is jittered (half fixed, half random) so that many
/// files failing together do not come back together.
pub const RETRY_FIRST_DELAY: Duration = Duration::from_millis(200);
/// The longest pause between two tries.
pub const RETRY_MAX_DELAY: Duration = Duration::from_secs(5);

/// Runs `op` until it succeeds, fails for good, or the next pause would pass
/// `deadline`; then returns its last error, saying how long it was tried. Each
/// retry is counted in `retried`.
pub(crate) async fn until<T, F, Fut>(
    deadline: Instant,
    retried: &AtomicU64,
    mut op: F,
) -> Result<T, ClientError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, ClientError>>,
{
    let started = Instant::now();
    let mut delay = RETRY_FIRST_DELAY;
    let mut tries = 1_u32;
    loop {
        let err = match op().await {
            Ok(value) => return Ok(value),
            Err(err) if err.is_transient() => err,
            Err(err) => return Err(err),
        };
        let pause = jittered(delay);
        if Instant::now() + pause > deadline {
            return Err(err.gave_up(tries, started.elapsed()));
        }
        retried.fetch_add(1, Ordering::Relaxed);
        tracing::debug!(error = %err.detail(), tries, "transient error, trying again");
        tokio::time::sleep(pause).await;
        delay = (delay * 2).min(RETRY_MAX_DELAY);
        tries += 1;
    }
}

/// Half of `delay` plus a random share of the other half.
fn jittered(delay: Duration) -> Duration {
    let random = std::collections::hash_map::RandomState::new()
        .build_hasher()
        .finish();
    let half = delay / 2;
    let extra_nanos = u64::try_from(half.as_nanos()).unwrap_or(u64::MAX);
    half + Duration::from_nanos(random % extra_nanos.max(1))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;

    #[test]
    fn pauses_stay_between_half_and_whole() {
        for _ in 0..100 {
            let pause = jittered(Duration::from_secs(2));
            assert!(pause >= Duration::from_secs(1) && pause <= Duration::from_secs(2));
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_transient_error_is_retried_until_the_deadline_then_named() {
        let retried = AtomicU64::new(0);
        let mut calls = 0;
        let deadline = Instant::now() + Duration::from_secs(3);
        let result: Result<(), ClientError> = until(deadline, &retried, || {
            calls += 1;
            async { Err(ClientError::new(ErrorKind::Offline, "No answer: bucket")) }
        })
        .await;
        let err = result.unwrap_err();
        assert!(calls > 1, "{calls}");
        assert_eq!(u64::from(calls as u32) - 1, retried.load(Ordering::Relaxed));
        assert!(err.message.contains("No answer: bucket"), "{}", err.message);
        assert!(
            err.message.contains(&format!("{calls} tries")),
            "{}",
            err.message
        );
        assert!(err.is_transient());
    }

    #[tokio::test(start_paused = true)]
    async fn a_final_error_is_not_retried() {
        let retried = AtomicU64::new(0);
        let mut calls = 0;
        let result: Result<(), ClientError> =
            until(Instant::now() + RETRY_BUDGET, &retried, || {
                calls += 1;
                async { Err(ClientError::new(ErrorKind::AccessDenied, "Access denied")) }
            })
            .await;
        assert_eq!(result.unwrap_err().kind, ErrorKind::AccessDenied);
        assert_eq!((calls, retried.load(Ordering::Relaxed)), (1, 0));
    }

    #[tokio::test(start_paused = true)]
    async fn success_after_faults_is_success() {
        let retried = AtomicU64::new(0);
        let mut calls = 0;
        let result = until(Instant::now() + RETRY_BUDGET, &retried, || {
            calls += 1;
            let n = calls;
            async move {
                if n < 5 {
                    Err(ClientError::new(ErrorKind::Offline, "No answer"))
                } else {
                    Ok(n)
                }
            }
        })
        .await;
        assert_eq!(result.unwrap(), 5);
        assert_eq!(retried.load(Ordering::Relaxed), 4);
    }
}
