//! What every output records about how it was made: the source's SHA-256, the
//! pipeline's version and its parameters, in the output's user metadata
//! (`x-amz-meta-*` on S3) beside the source key and the event sequencer. A
//! dataset export builds its manifest from these facts, so an export can be
//! checked and reproduced.
//!
//! The processor knows them all (it reads every byte of the upload); the rotation
//! worker copies them from its task ([`crate::RotationTask::provenance`]), so a
//! rotation records the facts of the upload whose task made it, with no extra
//! request. Outputs made before this record what they have: a reader takes each
//! fact that is there and well-formed, and leaves the rest out.

use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use crate::limits::{CANVAS_SIDE_PX, JPEG_QUALITY, MAX_PROVENANCE_VALUE_BYTES};

/// User-metadata name of the source's SHA-256 (lowercase hex).
pub const SOURCE_SHA256_METADATA: &str = "source-sha256";
/// User-metadata name of the version of `augment-pipeline` that made the output.
pub const PIPELINE_VERSION_METADATA: &str = "pipeline-version";
/// User-metadata name of the parameters the output was made with ([`parameters`]).
pub const PARAMETERS_METADATA: &str = "pipeline-parameters";

/// This pipeline's version (`augment-pipeline`'s `CARGO_PKG_VERSION`).
pub const PIPELINE_VERSION: &str = env!("CARGO_PKG_VERSION");

/// How this pipeline makes an output, as one metadata value:
/// `canvas=256;fill=ffffff;filter=lanczos3;quality=90;subsampling=420`. The
/// canvas and quality come from [`crate::limits`]; the fill (white), the resize
/// filter (Lanczos3) and the chroma subsampling (4:2:0) are `imaging`'s.
pub fn parameters() -> String {
    format!(
        "canvas={CANVAS_SIDE_PX};fill=ffffff;filter=lanczos3;quality={JPEG_QUALITY};subsampling=420"
    )
}

/// The lowercase hex SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    let digest = Sha256::digest(bytes);
    let mut hex = String::with_capacity(digest.len() * 2);
    for byte in digest {
        // Writing to a String cannot fail.
        let _ = write!(hex, "{byte:02x}");
    }
    hex
}

/// Whether `text` is a SHA-256 as [`sha256_hex`] writes it.
pub fn is_sha256_hex(text: &str) -> bool {
    text.len() == 64 && text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// The provenance facts of one output; each may be missing (an output made
/// before they were recorded, a failed record, which has no image).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Provenance {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_sha256: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pipeline_version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parameters: Option<String>,
}

impl Provenance {
    /// This pipeline's version and parameters, with no source.
    pub fn of_this_pipeline() -> Self {
        Self {
            source_sha256: None,
            pipeline_version: Some(PIPELINE_VERSION.to_owned()),
            parameters: Some(parameters()),
        }
    }

    /// This pipeline's facts for an output made from `source`.
    pub fn of_source(source: &[u8]) -> Self {
        Self {
            source_sha256: Some(sha256_hex(source)),
            ..Self::of_this_pipeline()
        }
    }

    /// As user metadata, the facts that are known.
    pub fn metadata(&self) -> Vec<(&'static str, String)> {
        [
            (SOURCE_SHA256_METADATA, &self.source_sha256),
            (PIPELINE_VERSION_METADATA, &self.pipeline_version),
            (PARAMETERS_METADATA, &self.parameters),
        ]
        .into_iter()
        .filter_map(|(name, value)| value.clone().map(|value| (name, value)))
        .collect()
    }

    /// The facts an object's metadata records (names in any case). The bucket is
    /// not trusted: a value that is not well-formed counts as missing.
    pub fn recorded_in(metadata: &[(String, String)]) -> Self {
        let find = |wanted: &str| {
            metadata
                .iter()
                .find(|(name, _)| name.eq_ignore_ascii_case(wanted))
                .map(|(_, value)| value.clone())
        };
        Self {
            source_sha256: find(SOURCE_SHA256_METADATA).filter(|v| is_sha256_hex(v)),
            pipeline_version: find(PIPELINE_VERSION_METADATA).filter(|v| is_plain_value(v)),
            parameters: find(PARAMETERS_METADATA).filter(|v| is_plain_value(v)),
        }
    }

    /// Whether every fact present is well-formed: a task's provenance becomes an
    /// output's metadata, so a forged message can write nothing else there.
    pub fn is_well_formed(&self) -> bool {
        self.source_sha256.as_deref().is_none_or(is_sha256_hex)
            && self.pipeline_version.as_deref().is_none_or(is_plain_value)
            && self.parameters.as_deref().is_none_or(is_plain_value)
    }
}

/// 1 to [`MAX_PROVENANCE_VALUE_BYTES`] printable ASCII characters, no space: a
/// value any store keeps as it is (S3 sends metadata as HTTP headers).
fn is_plain_value(value: &str) -> bool {
    !value.is_empty()
        && value.len() <= MAX_PROVENANCE_VALUE_BYTES
        && value.bytes().all(|b| b.is_ascii_graphic())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hash_is_lowercase_hex_sha256() {
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert!(is_sha256_hex(&sha256_hex(b"")));
        assert!(!is_sha256_hex(&sha256_hex(b"").to_uppercase()));
    }

    #[test]
    fn metadata_reads_back_what_was_written_and_drops_what_is_malformed() {
        let written = Provenance::of_source(b"a photo");
        let metadata: Vec<(String, String)> = written
            .metadata()
            .into_iter()
            .map(|(name, value)| (name.to_uppercase(), value))
            .collect();
        assert_eq!(Provenance::recorded_in(&metadata), written);
        assert_eq!(
            written.parameters.as_deref(),
            Some("canvas=256;fill=ffffff;filter=lanczos3;quality=90;subsampling=420")
        );

        let forged = vec![
            (SOURCE_SHA256_METADATA.to_owned(), "not a hash".to_owned()),
            (PIPELINE_VERSION_METADATA.to_owned(), "1.0\nx".to_owned()),
            (PARAMETERS_METADATA.to_owned(), "x".repeat(1000)),
        ];
        assert_eq!(Provenance::recorded_in(&forged), Provenance::default());
        // What an output made before provenance records.
        assert_eq!(Provenance::recorded_in(&[]), Provenance::default());
    }

    #[test]
    fn only_well_formed_facts_pass() {
        assert!(Provenance::of_source(b"x").is_well_formed());
        assert!(Provenance::default().is_well_formed());
        let bad = Provenance {
            parameters: Some("a b".into()),
            ..Provenance::default()
        };
        assert!(!bad.is_well_formed());
    }
}
