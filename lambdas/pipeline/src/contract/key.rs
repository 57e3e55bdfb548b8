//! An upload's key: parsed and checked, its failed record's key, and the S3
//! event form of keys. The output keys derive from it in `outputs.rs`.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::layout::{FAILED_PREFIX, KeyRules, UPLOAD_PREFIX, is_upload_extension};
use crate::limits::FAILED_KEY_NAME_BYTES;
use crate::reject::{RejectCode, Rejection};

/// FNV-1a, 64 bits: a hash fixed by its definition (unlike std's), so a failed
/// record's short key is the same in every version and on every machine.
fn fnv1a_64(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// The longest prefix of `text` of at most `max` bytes that ends on a character.
fn truncated(text: &str, max: usize) -> &str {
    let mut end = text.len().min(max);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}
/// implementation's library). 360 is the unrotated image.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "u16", into = "u16")]
pub enum Angle {
    Deg90,
    Deg180,
    Deg270,
    Deg360,
}

impl Angle {
    pub const ALL: [Self; 4] = [Self::Deg90, Self::Deg180, Self::Deg270, Self::Deg360];

    pub fn degrees(self) -> u16 {
        match self {
            Self::Deg90 => 90,
            Self::Deg180 => 180,
            Self::Deg270 => 270,
            Self::Deg360 => 360,
        }
    }
}

impl From<Angle> for u16 {
    fn from(angle: Angle) -> Self {
        angle.degrees()
    }
}

impl TryFrom<u16> for Angle {
    type Error = String;

    fn try_from(degrees: u16) -> Result<Self, Self::Error> {
        Self::ALL
            .into_iter()
            .find(|a| a.degrees() == degrees)
            .ok_or_else(|| format!("angle must be 90, 180, 270 or 360, not {degrees}"))
    }
}

impl fmt::Display for Angle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.degrees())
    }
}

/// Why a key is not a pipeline input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    #[error("the key is not under {UPLOAD_PREFIX}: {0}")]
    NotAnUpload(String),
    #[error("the key names a folder, not a file: {0}")]
    Folder(String),
    #[error("the event key is not valid percent-encoded UTF-8: {0}")]
    BadEncoding(String),
}

/// A key under `original-uploads/`, split into `<name>` and extension.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct UploadKey {
    key: String,
    /// Byte length of `<name>` (the part after the prefix, before the extension).
    name_len: usize,
    has_extension: bool,
}

impl UploadKey {
    /// Accepts any key under the upload prefix that names a file. The extension is
    /// not judged here: [`UploadKey::check_extension`] does, so that a wrong
    /// extension is a rejection written to `failed/`, not a silent skip.
    pub fn parse(key: &str) -> Result<Self, KeyError> {
        let Some(rest) = key.strip_prefix(UPLOAD_PREFIX) else {
            return Err(KeyError::NotAnUpload(key.to_owned()));
        };
        let file_name = rest.rsplit('/').next().unwrap_or(rest);
        if file_name.is_empty() {
            return Err(KeyError::Folder(key.to_owned()));
        }
        // `.hidden` has no extension; `a.b.jpg` has `jpg`.
        let (name_len, has_extension) = match file_name.rfind('.') {
            Some(dot) if dot > 0 => (rest.len() - (file_name.len() - dot), true),
            _ => (rest.len(), false),
        };
        Ok(Self {
            key: key.to_owned(),
            name_len,
            has_extension,
        })
    }

    /// The upload key for `<name>` with extension `ext` (without dot).
    pub fn from_name(name: &str, ext: &str) -> Result<Self, KeyError> {
        Self::parse(&format!("{UPLOAD_PREFIX}{name}.{ext}"))
    }

    pub fn as_str(&self) -> &str {
        &self.key
    }

    /// `<name>`: the key below the prefix without its extension; may hold `/`.
    pub fn name(&self) -> &str {
        &self.key[UPLOAD_PREFIX.len()..UPLOAD_PREFIX.len() + self.name_len]
    }

    /// The extension as written (any case), without the dot.
    pub fn extension(&self) -> Option<&str> {
        self.has_extension
            .then(|| &self.key[UPLOAD_PREFIX.len() + self.name_len + 1..])
    }

    /// Only `.jpg`, `.jpeg` and `.png` (any case) start work.
    pub fn check_extension(&self) -> Result<(), Rejection> {
        match self.extension() {
            Some(ext) if is_upload_extension(ext) => Ok(()),
            _ => Err(Rejection::new(
                RejectCode::UnsupportedType,
                "The file name must end in .jpg, .jpeg or .png. Rename or convert it, then upload it again.",
            )),
        }
    }

    /// `failed/<name>.json`; for a name so long that this would not fit every
    /// store ([`KeyRules::FOLDER`]), `failed/<first 100 bytes>~<hash>.json`, so the
    /// record of any upload can be written (see the module's rules).
    pub fn failed_key(&self) -> String {
        let full = format!("{FAILED_PREFIX}{}.json", self.name());
        if KeyRules::FOLDER.fits(&full) {
            return full;
        }
        let hash = fnv1a_64(self.name().as_bytes());
        let mut kept = truncated(self.name(), FAILED_KEY_NAME_BYTES);
        loop {
            // Shorter still if escaping makes it too long for a folder (100
            // colons are 300 bytes there).
            let short = format!("{FAILED_PREFIX}{kept}~{hash:016x}.json");
            if KeyRules::FOLDER.fits(&short) || kept.is_empty() {
                return short;
            }
            kept = truncated(kept, kept.len() - 1);
        }
    }
}

impl fmt::Display for UploadKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.key)
    }
}

/// A key as S3 writes it into an event notification: form style (`+` for a
/// space, `%XX` for any byte but letters, digits and `-_.~/`); what
/// [`decode_event_key`] reads back. For the events a client makes (a re-drive).
pub fn encode_event_key(key: &str) -> String {
    let mut encoded = String::with_capacity(key.len());
    for byte in key.bytes() {
        match byte {
            b' ' => encoded.push('+'),
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                encoded.push(char::from(byte));
            }
            _ => encoded.push_str(&format!("%{byte:02X}")),
        }
    }
    encoded
}

/// Decodes a key as S3 puts it in event notifications: form-style URL encoding,
/// where `+` is a space and `%2B` is a plus.
pub fn decode_event_key(raw: &str) -> Result<String, KeyError> {
    let spaced = raw.replace('+', " ");
    percent_encoding::percent_decode_str(&spaced)
        .decode_utf8()
        .map(std::borrow::Cow::into_owned)
        .map_err(|_| KeyError::BadEncoding(raw.to_owned()))
}
#[cfg(test)]
mod tests {
    use super::*;
    use crate::limits::MAX_KEY_BYTES;

    #[test]
    fn processed_keys_give_back_their_upload_name() {
        let name = |key: &str| UploadKey::from_processed_key(key).map(|k| k.name().to_owned());
        assert_eq!(
            name("processed/a/b c_256x256.jpg").as_deref(),
            Some("a/b c")
        );
        let upload = UploadKey::from_name("trip/x+y", "PNG").unwrap();
        let back = UploadKey::from_processed_key(&upload.processed_key()).unwrap();
        assert_eq!(
            back.rotation_key(Angle::Deg90),
            upload.rotation_key(Angle::Deg90)
        );
        assert_eq!(name("processed/_256x256.jpg"), None);
        assert_eq!(name("processed/x.jpg"), None);
        assert_eq!(name("failed/x_256x256.jpg"), None);
    }

    fn keys(upload: &str) -> (String, [String; 4], String) {
        let key = UploadKey::parse(upload).unwrap();
        (
            key.processed_key(),
            Angle::ALL.map(|a| key.rotation_key(a)),
            key.failed_key(),
        )
    }

    #[test]
    fn output_keys_follow_the_contract() {
        let (processed, rotations, failed) = keys("original-uploads/cat.jpg");
        assert_eq!(processed, "processed/cat_256x256.jpg");
        assert_eq!(
            rotations,
            [
                "augmented-images/90-degree/cat_90.jpg",
                "augmented-images/180-degree/cat_180.jpg",
                "augmented-images/270-degree/cat_270.jpg",
                "augmented-images/360-degree/cat_360.jpg",
            ]
        );
        assert_eq!(failed, "failed/cat.json");
    }

    #[test]
    fn awkward_names_keep_every_character() {
        let cases = [
            (
                "original-uploads/holiday/2024/beach day.JPG",
                "holiday/2024/beach day",
            ),
            ("original-uploads/a+b=c.jpeg", "a+b=c"),
            ("original-uploads/ÄÖÜ/café 日本.Png", "ÄÖÜ/café 日本"),
            ("original-uploads/v1.2/shot.final.png", "v1.2/shot.final"),
            ("original-uploads/100%.jpg", "100%"),
        ];
        for (upload, name) in cases {
            let key = UploadKey::parse(upload).unwrap();
            assert_eq!(key.name(), name, "{upload}");
            assert!(key.check_extension().is_ok(), "{upload}");
            assert_eq!(key.processed_key(), format!("processed/{name}_256x256.jpg"));
            assert_eq!(
                key.rotation_key(Angle::Deg270),
                format!("augmented-images/270-degree/{name}_270.jpg")
            );
            assert_eq!(key.failed_key(), format!("failed/{name}.json"));
        }
    }

    #[test]
    fn same_name_different_extension_shares_outputs() {
        let jpg = UploadKey::parse("original-uploads/cat.jpg").unwrap();
        let png = UploadKey::parse("original-uploads/cat.PNG").unwrap();
        assert_eq!(jpg.processed_key(), png.processed_key());
    }

    #[test]
    fn only_uploads_are_inputs() {
        for key in [
            "processed/cat_256x256.jpg",
            "augmented-images/90-degree/cat_90.jpg",
            "failed/cat.json",
            "cat.jpg",
            "Original-Uploads/cat.jpg",
        ] {
            assert_eq!(
                UploadKey::parse(key),
                Err(KeyError::NotAnUpload(key.to_owned()))
            );
        }
        assert!(matches!(
            UploadKey::parse("original-uploads/"),
            Err(KeyError::Folder(_))
        ));
        assert!(matches!(
            UploadKey::parse("original-uploads/dir/"),
            Err(KeyError::Folder(_))
        ));
    }

    #[test]
    fn other_extensions_are_rejected_not_skipped() {
        for key in [
            "original-uploads/cat.gif",
            "original-uploads/cat",
            "original-uploads/.jpg",
            "original-uploads/x.jpg.txt",
        ] {
            let key = UploadKey::parse(key).unwrap();
            assert_eq!(
                key.check_extension().unwrap_err().code,
                RejectCode::UnsupportedType,
                "{key}"
            );
        }
        assert_eq!(
            UploadKey::parse("original-uploads/.jpg").unwrap().name(),
            ".jpg"
        );
    }

    #[test]
    fn event_keys_are_form_decoded() {
        let cases = [
            (
                "original-uploads/beach+day.jpg",
                "original-uploads/beach day.jpg",
            ),
            ("original-uploads/a%2Bb.jpg", "original-uploads/a+b.jpg"),
            (
                "original-uploads/caf%C3%A9.jpg",
                "original-uploads/café.jpg",
            ),
            ("original-uploads/100%25.jpg", "original-uploads/100%.jpg"),
            (
                "original-uploads/dir%2Fsub/x.JPG",
                "original-uploads/dir/sub/x.JPG",
            ),
        ];
        for (raw, decoded) in cases {
            assert_eq!(decode_event_key(raw).unwrap(), decoded);
        }
        assert!(matches!(
            decode_event_key("original-uploads/%FF.jpg"),
            Err(KeyError::BadEncoding(_))
        ));
    }

    fn name_of(len: usize) -> String {
        // Folders of 200 bytes: each file name fits a folder, only the total grows.
        let mut name = String::new();
        while name.len() < len {
            if name.len() % 201 == 200 {
                name.push('/');
            } else {
                name.push('a');
            }
        }
        name
    }

    #[test]
    fn names_too_long_for_the_rotation_keys_are_refused_up_front() {
        // 988 bytes: the 360 key is exactly 1,024.
        let fits = UploadKey::from_name(&name_of(988), "jpg").unwrap();
        assert!(fits.check_key_length(KeyRules::S3).is_ok());
        assert_eq!(fits.rotation_key(Angle::Deg360).len(), MAX_KEY_BYTES);
        // 989 to 1,003 bytes: the upload key fits S3 (and `processed/` up to 1,002),
        // the rotations not.
        for len in [989, 1_002, 1_003] {
            let key = UploadKey::from_name(&name_of(len), "jpg").unwrap();
            assert!(key.as_str().len() <= MAX_KEY_BYTES);
            assert_eq!(KeyRules::S3.fits(&key.processed_key()), len <= 1_002);
            let rejection = key.check_key_length(KeyRules::S3).unwrap_err();
            assert_eq!(rejection.code, RejectCode::NameTooLong);
            assert!(
                rejection.message.contains("at most 988 bytes"),
                "{rejection}"
            );
        }
    }

    #[test]
    fn in_a_folder_each_file_name_must_fit_255_bytes() {
        let ok = UploadKey::from_name(&"é".repeat(121), "jpg").unwrap(); // 242 bytes
        assert!(ok.check_key_length(KeyRules::FOLDER).is_ok());
        let long = UploadKey::from_name(&format!("trip/{}", "x".repeat(250)), "jpg").unwrap();
        assert!(long.check_key_length(KeyRules::S3).is_ok());
        let rejection = long.check_key_length(KeyRules::FOLDER).unwrap_err();
        assert_eq!(rejection.code, RejectCode::NameTooLong);
        assert!(rejection.message.contains("243 bytes"), "{rejection}");
    }

    #[test]
    fn escaped_names_count_as_the_folder_holds_them() {
        // 81 colons are 243 bytes in a folder: the most `<name>_256x256.jpg` allows.
        let fits = UploadKey::from_name(&":".repeat(81), "jpg").unwrap();
        assert!(fits.check_key_length(KeyRules::FOLDER).is_ok());
        let over = UploadKey::from_name(&":".repeat(82), "jpg").unwrap();
        assert!(over.check_key_length(KeyRules::S3).is_ok());
        assert!(over.check_key_length(KeyRules::FOLDER).is_err());
        // Its record still fits a folder, under the short key.
        let many = UploadKey::from_name(&":".repeat(300), "jpg").unwrap();
        let failed = many.failed_key();
        assert!(KeyRules::FOLDER.fits(&failed), "{failed}");
        assert!(failed.starts_with("failed/::::"), "{failed}");
    }

    #[test]
    fn failed_keys_of_long_names_are_short_stable_and_distinct() {
        let short = UploadKey::parse("original-uploads/cat.jpg").unwrap();
        assert_eq!(short.failed_key(), "failed/cat.json");
        let a = UploadKey::from_name(&format!("ü{}", "a".repeat(1_000)), "jpg").unwrap();
        let b = UploadKey::from_name(&format!("ü{}b", "a".repeat(999)), "jpg").unwrap();
        let one_name = UploadKey::from_name(&"x".repeat(251), "png").unwrap();
        for key in [&a, &b, &one_name] {
            let failed = key.failed_key();
            assert!(KeyRules::FOLDER.fits(&failed), "{failed}");
            assert!(
                failed.len() <= 7 + FAILED_KEY_NAME_BYTES + 1 + 16 + 5,
                "{failed}"
            );
            assert!(failed.starts_with("failed/") && failed.ends_with(".json"));
        }
        assert_ne!(a.failed_key(), b.failed_key());
        assert_eq!(a.failed_key(), a.clone().failed_key());
        // Fixed by definition: the same on every machine and in every version.
        assert_eq!(
            one_name.failed_key(),
            format!(
                "failed/{}~{:016x}.json",
                "x".repeat(100),
                fnv1a_64("x".repeat(251).as_bytes())
            )
        );
        assert_eq!(fnv1a_64(b"a"), 0xaf63_dc4c_8601_ec8c);
        // Cut on a character, never inside one.
        assert!(a.failed_key().starts_with("failed/ü"));
    }
}
