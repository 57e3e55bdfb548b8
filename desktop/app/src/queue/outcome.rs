//! Why a row failed, as a stable code: the report's `code` column, which
//! scripts read, so each code is spelled once, here.

use augment_client::{ClientError, ErrorKind};

/// A failed row's code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FailureCode {
    /// Refused by the checks or the pipeline: the rejection's own code, kept as
    /// written (a code this version does not know stays as it is).
    Rejected(String),
    /// No rotations appeared within the watch's time.
    TimedOut,
    /// Something on the way failed: the client's error kind, whose code the
    /// client spells ([`ErrorKind::code`]).
    Error(ErrorKind),
}

impl FailureCode {
    /// The code of an error: the rejection's own (`too_large`…), else its kind.
    pub fn of(err: &ClientError) -> Self {
        match &err.kind {
            ErrorKind::Rejected(rejection) => Self::Rejected(rejection.code.as_str().to_owned()),
            kind => Self::Error(kind.clone()),
        }
    }

    /// The code in the report (`too_large`, `timed_out`, `offline`…).
    pub fn as_str(&self) -> &str {
        match self {
            Self::Rejected(code) => code,
            Self::TimedOut => "timed_out",
            Self::Error(kind) => kind.code(),
        }
    }
}

/// The code of a row skipped as a duplicate.
pub const DUPLICATE: &str = "duplicate";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_stable_and_an_unknown_rejection_keeps_its_own() {
        let offline = ClientError::new(ErrorKind::Offline, "no network");
        assert_eq!(FailureCode::of(&offline).as_str(), "offline");
        assert_eq!(FailureCode::TimedOut.as_str(), "timed_out");
        let newer = FailureCode::Rejected("too_tall".to_owned());
        assert_eq!(newer.as_str(), "too_tall");
    }
}
