//! Why an input is rejected: a stable code plus a message for people.

use std::fmt;

use serde::{Deserialize, Serialize};

/// The stable, machine-readable reason for a rejection. Serialized in `snake_case`
/// (`unsupported_type`, `too_large`, `corrupt`, `too_many_pixels`, `too_complex`,
/// `name_too_long`); clients match on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RejectCode {
    /// Not a JPEG or PNG by content (whatever the file name says), or a JPEG/PNG
    /// feature the decoder does not support.
    UnsupportedType,
    /// More than [`crate::limits::MAX_UPLOAD_BYTES`].
    TooLarge,
    /// Broken or truncated image data.
    Corrupt,
    /// Dimensions or decoded size over the decoder limits (decompression bombs).
    TooManyPixels,
    /// Within the pixel limits, but built to cost more than any real photo does to
    /// decode: too many JPEG scans, or scans that add up to too many block decodes.
    TooComplex,
    /// The upload's name makes an output key longer than the store can hold
    /// ([`crate::limits::MAX_KEY_BYTES`], or in a folder
    /// [`crate::limits::MAX_FILE_NAME_BYTES`] for one file name).
    NameTooLong,
}

impl RejectCode {
    /// All codes, in documentation order.
    pub const ALL: [Self; 6] = [
        Self::UnsupportedType,
        Self::TooLarge,
        Self::Corrupt,
        Self::TooManyPixels,
        Self::TooComplex,
        Self::NameTooLong,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::UnsupportedType => "unsupported_type",
            Self::TooLarge => "too_large",
            Self::Corrupt => "corrupt",
            Self::TooManyPixels => "too_many_pixels",
            Self::TooComplex => "too_complex",
            Self::NameTooLong => "name_too_long",
        }
    }
}

impl fmt::Display for RejectCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A final verdict on an input: it will never succeed, so it is never retried.
#[derive(Debug, Clone, Serialize, Deserialize, thiserror::Error)]
#[error("{code}: {message}")]
pub struct Rejection {
    pub code: RejectCode,
    /// One or two plain sentences: what is wrong and what to do. Never a
    /// decoder's own words: those are in [`Rejection::detail`].
    pub message: String,
    /// What the decoder said (its error text, a debug name), for the log only:
    /// never shown to a person, never written to `failed/`.
    #[serde(skip)]
    pub detail: Option<String>,
}

/// Two verdicts are the same when a person reads them the same: code and
/// message. The log-only detail is not compared.
impl PartialEq for Rejection {
    fn eq(&self, other: &Self) -> bool {
        self.code == other.code && self.message == other.message
    }
}

impl Eq for Rejection {}

/// Which kind of file a damaged input claimed to be, for the plain message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Claimed {
    Jpeg,
    Png,
    /// Either: the decoder that failed is not known (a caught panic).
    Image,
}

impl Rejection {
    pub fn new(code: RejectCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            detail: None,
        }
    }

    /// The same verdict, with the technical detail for the log.
    #[must_use]
    pub fn with_detail(mut self, detail: impl fmt::Display) -> Self {
        self.detail = Some(detail.to_string());
        self
    }

    pub fn too_large(size_bytes: u64) -> Self {
        Self::new(
            RejectCode::TooLarge,
            format!(
                "The file is {} but the limit is {}. Resize or recompress it, then upload it again.",
                format_bytes(size_bytes),
                format_bytes(crate::limits::MAX_UPLOAD_BYTES)
            ),
        )
    }

    /// Too large, when the exact size is unknown (the read stopped at the limit).
    pub fn over_limit() -> Self {
        Self::new(
            RejectCode::TooLarge,
            format!(
                "The file is larger than the {} limit. Resize or recompress it, then upload it again.",
                format_bytes(crate::limits::MAX_UPLOAD_BYTES)
            ),
        )
    }

    /// Damaged or cut-short data: one plain message per kind of file; `detail`
    /// (what the decoder found) goes to the log only.
    pub fn corrupt(claimed: Claimed, detail: impl fmt::Display) -> Self {
        let what = match claimed {
            Claimed::Jpeg => "This is not a valid JPEG file",
            Claimed::Png => "This is not a valid PNG file",
            Claimed::Image => "This is not a valid image file",
        };
        Self::new(
            RejectCode::Corrupt,
            format!(
                "{what}: the data is damaged or cut short. Export or download the image again."
            ),
        )
        .with_detail(detail)
    }

    /// A JPEG feature the decoders here cannot read; `feature` goes to the log only.
    pub fn unsupported_jpeg_feature(feature: impl fmt::Display) -> Self {
        Self::new(
            RejectCode::UnsupportedType,
            "The JPEG uses a feature this tool cannot read. Re-save it as a standard JPEG or PNG, then upload it again.",
        )
        .with_detail(feature)
    }

    /// Whether `self` has a log-only detail that says `what`.
    pub fn detail_says(&self, what: &str) -> bool {
        self.detail.as_deref().is_some_and(|d| d.contains(what))
    }
}

/// `10485760` → `"10 MiB"`, `1536` → `"1.5 KiB"`.
pub fn format_bytes(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["bytes", "KiB", "MiB", "GiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} bytes")
    } else if (value - value.round()).abs() < 0.05 {
        format!("{value:.0} {}", UNITS[unit])
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_serialize_as_documented() {
        for code in RejectCode::ALL {
            let json = serde_json::to_string(&code).unwrap();
            assert_eq!(json, format!("\"{}\"", code.as_str()));
        }
    }

    #[test]
    fn damage_reads_plainly_and_keeps_the_detail_for_the_log() {
        let rejection = Rejection::corrupt(Claimed::Png, "ChunkType { type: \\u{9c}x }");
        assert_eq!(
            rejection.message,
            "This is not a valid PNG file: the data is damaged or cut short. Export or download the image again."
        );
        assert!(rejection.detail_says("ChunkType"));
        let json = serde_json::to_string(&rejection).unwrap();
        assert!(!json.contains("ChunkType"), "{json}");
        // The same verdict to a person, whatever the decoder said.
        assert_eq!(rejection, Rejection::corrupt(Claimed::Png, "other words"));
    }

    #[test]
    fn byte_sizes_read_naturally() {
        assert_eq!(format_bytes(10 * 1024 * 1024), "10 MiB");
        assert_eq!(format_bytes(1536), "1.5 KiB");
        assert_eq!(format_bytes(12), "12 bytes");
        assert_eq!(format_bytes(10 * 1024 * 1024 + 1), "10 MiB");
    }
}
