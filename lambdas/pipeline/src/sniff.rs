//! Content sniffing: what an upload is, by its first bytes, never by its name.

use crate::limits::MAX_UPLOAD_BYTES;
use crate::reject::{RejectCode, Rejection};

/// The two formats the pipeline accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageFormat {
    Jpeg,
    Png,
}

const JPEG_MAGIC: &[u8] = &[0xFF, 0xD8, 0xFF];
const PNG_MAGIC: &[u8] = b"\x89PNG\r\n\x1a\n";

/// Formats people commonly try, so the message can say what the file is.
const KNOWN_OTHERS: &[(&[u8], &str)] = &[
    (b"GIF87a", "a GIF image"),
    (b"GIF89a", "a GIF image"),
    (b"BM", "a BMP image"),
    (b"II*\0", "a TIFF image"),
    (b"MM\0*", "a TIFF image"),
    (b"%PDF", "a PDF document"),
    (b"PK\x03\x04", "a ZIP archive"),
    (b"\0\0\0\x0cjP  ", "a JPEG 2000 image"),
];

/// The format of `bytes` by magic number, or `None`.
pub fn sniff(bytes: &[u8]) -> Option<ImageFormat> {
    if bytes.starts_with(JPEG_MAGIC) {
        Some(ImageFormat::Jpeg)
    } else if bytes.starts_with(PNG_MAGIC) {
        Some(ImageFormat::Png)
    } else {
        None
    }
}

/// Checks size and type: the cheap checks every client runs before uploading and
/// the processor runs again on what it downloaded.
pub fn check_upload(bytes: &[u8]) -> Result<ImageFormat, Rejection> {
    let size_bytes = bytes.len() as u64;
    if size_bytes > MAX_UPLOAD_BYTES {
        return Err(Rejection::too_large(size_bytes));
    }
    sniff(bytes).ok_or_else(|| {
        Rejection::new(
            RejectCode::UnsupportedType,
            format!(
                "The file is {}, not a JPEG or PNG image. Convert it to JPEG or PNG, then upload it again.",
                describe(bytes)
            ),
        )
    })
}

fn describe(bytes: &[u8]) -> &'static str {
    if bytes.is_empty() {
        return "empty";
    }
    if let Some((_, what)) = KNOWN_OTHERS
        .iter()
        .find(|(magic, _)| bytes.starts_with(magic))
    {
        return what;
    }
    if bytes.len() >= 12 && &bytes[4..8] == b"ftyp" {
        return match &bytes[8..12] {
            b"heic" | b"heix" | b"mif1" | b"msf1" => "a HEIC image",
            b"avif" => "an AVIF image",
            _ => "a video or ISO media file",
        };
    }
    if bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        return "a WebP image";
    }
    if std::str::from_utf8(&bytes[..bytes.len().min(512)]).is_ok() {
        return "text";
    }
    "of an unknown type"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffs_by_content_not_name() {
        assert_eq!(sniff(b"\xFF\xD8\xFF\xE0rest"), Some(ImageFormat::Jpeg));
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\nrest"), Some(ImageFormat::Png));
        assert_eq!(sniff(b"GIF89a"), None);
        assert_eq!(sniff(b""), None);
    }

    #[test]
    fn rejections_say_what_the_file_is() {
        let cases: [(&[u8], &str); 6] = [
            (b"hello, this is a text file", "text"),
            (b"GIF89a\x01\x00", "a GIF image"),
            (b"\0\0\0\x18ftypheic\0\0\0\0", "a HEIC image"),
            (b"RIFF\0\0\0\0WEBPVP8 ", "a WebP image"),
            (b"", "empty"),
            (b"\xFE\xFF\x00\x80\x81", "of an unknown type"),
        ];
        for (bytes, what) in cases {
            let err = check_upload(bytes).unwrap_err();
            assert_eq!(err.code, RejectCode::UnsupportedType);
            assert!(err.message.contains(what), "{what}: {}", err.message);
        }
    }

    #[test]
    fn size_is_checked_before_type() {
        let big = vec![0_u8; usize::try_from(MAX_UPLOAD_BYTES).unwrap() + 1];
        assert_eq!(check_upload(&big).unwrap_err().code, RejectCode::TooLarge);
        let mut exact = vec![0_u8; usize::try_from(MAX_UPLOAD_BYTES).unwrap()];
        exact[..3].copy_from_slice(JPEG_MAGIC);
        assert_eq!(check_upload(&exact), Ok(ImageFormat::Jpeg));
    }
}
