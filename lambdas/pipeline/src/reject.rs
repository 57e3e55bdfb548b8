//! Why an input is rejected: a stable code plus a message for people.

use std::fmt;

use serde::{Deserialize, Serialize};

/// The stable, machine-readable reason for a rejection. Serialized in `snake_case`
/// (`unsupported_type`, `too_large`, `corrupt`, `too_many_pixels`, `too_complex`);
/// clients match on it.
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
}

impl RejectCode {
    /// All codes, in documentation order.
    pub const ALL: [Self; 5] = [
        Self::UnsupportedType,
        Self::TooLarge,
        Self::Corrupt,
        Self::TooManyPixels,
        Self::TooComplex,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::UnsupportedType => "unsupported_type",
            Self::TooLarge => "too_large",
            Self::Corrupt => "corrupt",
            Self::TooManyPixels => "too_many_pixels",
            Self::TooComplex => "too_complex",
        }
    }
}

impl fmt::Display for RejectCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A final verdict on an input: it will never succeed, so it is never retried.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{code}: {message}")]
pub struct Rejection {
    pub code: RejectCode,
    /// One or two plain sentences: what is wrong and what to do.
    pub message: String,
}

impl Rejection {
    pub fn new(code: RejectCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
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

    pub fn corrupt(detail: impl fmt::Display) -> Self {
        Self::new(
            RejectCode::Corrupt,
            format!(
                "The image data is broken or truncated ({detail}). Export or download the image again."
            ),
        )
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
    fn byte_sizes_read_naturally() {
        assert_eq!(format_bytes(10 * 1024 * 1024), "10 MiB");
        assert_eq!(format_bytes(1536), "1.5 KiB");
        assert_eq!(format_bytes(12), "12 bytes");
        assert_eq!(format_bytes(10 * 1024 * 1024 + 1), "10 MiB");
    }
}
