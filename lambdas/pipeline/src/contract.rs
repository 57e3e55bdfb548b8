//! The bucket contract: which keys exist, how they derive from an upload's key, and
//! the two JSON documents the pipeline writes (the rotation task and the failed
//! record). Every output key is a pure function of the upload key, so re-running a
//! step overwrites the same objects.
//!
//! ```text
//! original-uploads/<name>.<ext>               .jpg .jpeg .png (any case)
//! processed/<name>_256x256.jpg
//! augmented-images/<angle>-degree/<name>_<angle>.jpg   angle = 90, 180, 270, 360
//! failed/<name>.json
//! ```
//!
//! Two rules keep the layout writable and in order:
//! - **Key length.** An upload whose longest output key would not fit the store
//!   ([`KeyRules`]: S3's 1,024 bytes; in a folder also 255 bytes a file name) is
//!   refused up front (`name_too_long`). Its failed record, and that of any name
//!   whose `failed/<name>.json` would not fit, is
//!   `failed/<first 100 bytes of name>~<FNV-1a 64 of name, 16 hex digits>.json`
//!   ([`UploadKey::failed_key`]), which always fits.
//! - **Order.** Outputs record the upload they came from: its key, S3 event
//!   `sequencer` and event time (user metadata `source-key`,
//!   [`SEQUENCER_METADATA`], [`EVENT_TIME_METADATA`]); a step for an older event
//!   than the one its outputs record writes nothing ([`UploadOrder`]: by sequencer
//!   within one key, by event time across keys).

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::folder_names;
use crate::limits::{
    FAILED_KEY_NAME_BYTES, MAX_FILE_NAME_BYTES, MAX_KEY_BYTES, MAX_SEQUENCER_CHARS,
};
use crate::outputs::Output;
use crate::provenance::Provenance;
use crate::reject::{RejectCode, Rejection};

pub const UPLOAD_PREFIX: &str = "original-uploads/";
pub const PROCESSED_PREFIX: &str = "processed/";
pub const AUGMENTED_PREFIX: &str = "augmented-images/";
pub const FAILED_PREFIX: &str = "failed/";

/// Extensions an upload key may end in (compared case-insensitively).
pub const UPLOAD_EXTENSIONS: [&str; 3] = ["jpg", "jpeg", "png"];

/// User metadata on `processed/`, rotation and `failed/` objects: the S3 event
/// sequencer of the upload they were made from.
pub const SEQUENCER_METADATA: &str = "source-sequencer";

/// Which keys a store can hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyRules {
    /// Longest key, in bytes.
    pub max_key_bytes: usize,
    /// Longest part between two `/`, in bytes, where the store has such a limit:
    /// a folder's, measured as the folder names the part ([`folder_names::escape`]).
    pub max_file_name_bytes: Option<usize>,
}

impl KeyRules {
    /// S3 (and every S3-compatible store): 1,024 bytes a key.
    pub const S3: Self = Self {
        max_key_bytes: MAX_KEY_BYTES,
        max_file_name_bytes: None,
    };
    /// A folder laid out like the bucket: S3's rule, so that what works locally
    /// works in the bucket, and 255 bytes a file name.
    pub const FOLDER: Self = Self {
        max_key_bytes: MAX_KEY_BYTES,
        max_file_name_bytes: Some(MAX_FILE_NAME_BYTES),
    };

    /// Whether `key` fits.
    pub fn fits(self, key: &str) -> bool {
        key.len() <= self.max_key_bytes
            && self.max_file_name_bytes.is_none_or(|max| {
                key.split('/')
                    .all(|part| folder_names::escaped_len(part) <= max)
            })
    }
}

/// An S3 event's `sequencer`: hex digits that order the events of one key (a later
/// write of the key has a greater one). Compared as S3 documents it: the shorter is
/// left-padded with zeros to the other's length, then compared as strings; so
/// `0055` = `55` < `0100`. Only events of the same key are comparable.
#[derive(Debug, Clone)]
pub struct Sequencer(String);

impl Sequencer {
    /// `None` unless `raw` is 1 to [`MAX_SEQUENCER_CHARS`] hex digits (either case).
    pub fn parse(raw: &str) -> Option<Self> {
        let ok = !raw.is_empty()
            && raw.len() <= MAX_SEQUENCER_CHARS
            && raw.bytes().all(|b| b.is_ascii_hexdigit());
        ok.then(|| Self(raw.to_ascii_uppercase()))
    }

    /// As written into metadata (upper case, as S3 writes it).
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Without leading zeros: equal-length padding then compares as length, then text.
    fn significant(&self) -> &str {
        self.0.trim_start_matches('0')
    }

    /// The sequencer an output's metadata records, if any.
    pub fn recorded_in(metadata: &[(String, String)]) -> Option<Self> {
        metadata
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(SEQUENCER_METADATA))
            .and_then(|(_, value)| Self::parse(value))
    }
}

impl Ord for Sequencer {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        let (a, b) = (self.significant(), other.significant());
        a.len().cmp(&b.len()).then_with(|| a.cmp(b))
    }
}

impl PartialOrd for Sequencer {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Sequencer {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other).is_eq()
    }
}

impl Eq for Sequencer {}

impl fmt::Display for Sequencer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// User metadata beside [`SEQUENCER_METADATA`]: the S3 event time of the upload
/// ([`EventTime`]), which orders uploads of different keys that share outputs.
pub const EVENT_TIME_METADATA: &str = "source-event-time";

/// An S3 event's `eventTime` in the one form S3 writes it,
/// `YYYY-MM-DDTHH:MM:SS.mmmZ` (UTC, milliseconds): fixed width, so the text's order
/// is the time's order.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct EventTime(String);

impl EventTime {
    /// `None` unless `raw` has exactly that form.
    pub fn parse(raw: &str) -> Option<Self> {
        const SHAPE: &[u8; 24] = b"0000-00-00T00:00:00.000Z";
        let ok = raw.len() == SHAPE.len()
            && raw.bytes().zip(SHAPE).all(|(byte, &shape)| match shape {
                b'0' => byte.is_ascii_digit(),
                _ => byte == shape,
            });
        ok.then(|| Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Where an upload event stands among all the events that write the same outputs
/// (`cat.jpg`, `cat.png` and `cat.JPEG` share `processed/cat…` and
/// `failed/cat.json`). S3 orders the events of one key by their sequencer and
/// nothing orders the events of different keys, so: events of one key compare by
/// [`Sequencer`]; events of different keys by [`EventTime`], then by key (a tie of
/// milliseconds is decided alike by every processor). Where either side lacks
/// what its comparison needs (local mode, outputs of earlier processors), neither
/// is older: the step writes, as it did before order was kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadOrder {
    /// The upload key of the event (metadata `source-key`).
    pub key: String,
    pub sequencer: Option<Sequencer>,
    pub time: Option<EventTime>,
}

impl UploadOrder {
    /// The order an output records (source key, sequencer, event time), if it
    /// names its source key.
    pub fn recorded_in(metadata: &[(String, String)]) -> Option<Self> {
        let value = |name: &str| {
            metadata
                .iter()
                .find(|(key, _)| key.eq_ignore_ascii_case(name))
                .map(|(_, value)| value.as_str())
        };
        Some(Self {
            key: value(crate::steps::SOURCE_KEY_METADATA)?.to_owned(),
            sequencer: value(SEQUENCER_METADATA).and_then(Sequencer::parse),
            time: value(EVENT_TIME_METADATA).and_then(EventTime::parse),
        })
    }

    /// Whether this event is older than the one `recorded` came from, so that
    /// writing would put older results over newer ones.
    pub fn is_older_than(&self, recorded: &Self) -> bool {
        if self.key == recorded.key {
            return matches!((&self.sequencer, &recorded.sequencer), (Some(ours), Some(theirs)) if ours < theirs);
        }
        match (&self.time, &recorded.time) {
            (Some(ours), Some(theirs)) => (ours, &self.key) < (theirs, &recorded.key),
            _ => false,
        }
    }
}

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

/// Whether `ext` (without the dot) is an extension an upload may end in, in any
/// case: the one extension rule, for keys, file names and folder walks alike.
pub fn is_upload_extension(ext: &str) -> bool {
    UPLOAD_EXTENSIONS
        .iter()
        .any(|ok| ext.eq_ignore_ascii_case(ok))
}

/// A rotation, counter-clockwise as Pillow's `Image.rotate` (the original
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

    /// [`Output::Processed`]'s key.
    pub fn processed_key(&self) -> String {
        Output::Processed.key(self)
    }

    /// The inverse of [`UploadKey::processed_key`]: an upload key whose outputs
    /// include `key` (`<name>.jpg`: every output key depends on the name only),
    /// or `None` for anything else under `processed/`.
    pub fn from_processed_key(key: &str) -> Option<Self> {
        match Output::parse_key(key)? {
            (name, Output::Processed) => Self::from_name(name, "jpg").ok(),
            _ => None,
        }
    }

    /// [`Output::Rotation`]'s key.
    pub fn rotation_key(&self, angle: Angle) -> String {
        Output::Rotation(angle).key(self)
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

    /// The keys of every [`Output`], in [`Output::ALL`] order.
    pub fn output_keys(&self) -> [String; 5] {
        Output::ALL.map(|output| output.key(self))
    }

    /// Refuses (`name_too_long`) an upload whose outputs `rules` cannot hold, before
    /// any work: otherwise its rotations would fail at the store after the
    /// processed image was written, and never be made.
    pub fn check_key_length(&self, rules: KeyRules) -> Result<(), Rejection> {
        if self.output_keys().iter().all(|key| rules.fits(key)) {
            return Ok(());
        }
        // The longest key's overhead over the name (36 bytes: the 360 rotation's),
        // and the longest file name's over the name's last part (12: the processed).
        let longest = Output::ALL
            .map(|output| output.key_of_name("").len())
            .into_iter()
            .max()
            .unwrap_or(0);
        let longest_file = Output::ALL
            .map(|output| {
                output
                    .key_of_name("")
                    .rsplit('/')
                    .next()
                    .map_or(0, str::len)
            })
            .into_iter()
            .max()
            .unwrap_or(0);
        let mut limit = format!(
            "at most {} bytes in all",
            rules.max_key_bytes.saturating_sub(longest)
        );
        if let Some(max) = rules.max_file_name_bytes {
            limit.push_str(&format!(
                ", and at most {} bytes for each folder or file name, where each of \\ : * ? \" < > | counts 3",
                max.saturating_sub(longest_file)
            ));
        }
        Err(Rejection::new(
            RejectCode::NameTooLong,
            format!(
                "The file name is too long for the pipeline's output names ({} bytes; the name without its extension may be {limit}). Rename it shorter, then upload it again.",
                self.name().len()
            ),
        ))
    }

    /// The rotation tasks for this upload, one per [`Output::ROTATIONS`], in angle order.
    pub fn tasks(&self, bucket: &str) -> [RotationTask; 4] {
        Angle::ALL.map(|angle| RotationTask {
            v: RotationTask::VERSION,
            bucket: bucket.to_owned(),
            source_key: self.key.clone(),
            processed_key: self.processed_key(),
            angle,
            output_key: self.rotation_key(angle),
            sequencer: None,
            provenance: None,
        })
    }
}

impl fmt::Display for UploadKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.key)
    }
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

/// The SQS message body asking for one rotation. Versioned: a worker rejects a
/// version it does not know rather than guess.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RotationTask {
    pub v: u32,
    pub bucket: String,
    pub source_key: String,
    pub processed_key: String,
    pub angle: Angle,
    pub output_key: String,
    /// The S3 event sequencer of the upload (see [`Sequencer`]); absent in local
    /// mode and in tasks of earlier processors. Optional, so version 1 is kept:
    /// a worker that does not know it ignores it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sequencer: Option<String>,
    /// What the rotation records about how it was made: the facts of the upload
    /// the processor read ([`Provenance`]). Absent in tasks of earlier
    /// processors; optional, as `sequencer` is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provenance: Option<Provenance>,
}

/// Why a message body is not a task this worker will run.
#[derive(Debug, thiserror::Error)]
pub enum TaskError {
    #[error("the message is not a rotation task: {0}")]
    Json(#[from] serde_json::Error),
    #[error("task version {0} is not supported (this worker reads version {v})", v = RotationTask::VERSION)]
    Version(u32),
    #[error("the task's keys do not follow the bucket contract for {0}")]
    Keys(String),
    #[error("the task's sequencer is not 1 to {MAX_SEQUENCER_CHARS} hex digits: {0:?}")]
    Sequencer(String),
    #[error("the task's provenance is not well-formed (a SHA-256 in hex, short printable values)")]
    Provenance,
}

impl RotationTask {
    pub const VERSION: u32 = 1;

    /// The message body: JSON that SQS can carry. SQS refuses a body with a
    /// character outside `#x9 | #xA | #xD | #x20–#xD7FF | #xE000–#xFFFD |
    /// #x10000–#x10FFFF`; a key may hold U+FFFE or U+FFFF (S3 takes any UTF-8),
    /// so those are written as the JSON escapes `\ufffe` and `\uffff`, which
    /// parse back to the same key. (`serde_json` escapes the control characters
    /// already, and a Rust string holds no surrogate.)
    pub fn to_json(&self) -> String {
        // Serializing plain strings and numbers cannot fail.
        let json =
            serde_json::to_string(self).unwrap_or_else(|err| unreachable!("task JSON: {err}"));
        // Outside strings JSON is ASCII, so every such character is in a string.
        if json.contains(['\u{FFFE}', '\u{FFFF}']) {
            json.replace('\u{FFFE}', "\\ufffe")
                .replace('\u{FFFF}', "\\uffff")
        } else {
            json
        }
    }

    /// Parses and checks a message body: the version, and that both keys are the
    /// ones the contract derives from `source_key`, so a forged message cannot make
    /// the worker read or write anywhere else.
    pub fn from_json(body: &str) -> Result<Self, TaskError> {
        let task: Self = serde_json::from_str(body)?;
        if task.v != Self::VERSION {
            return Err(TaskError::Version(task.v));
        }
        let upload = UploadKey::parse(&task.source_key)
            .map_err(|_| TaskError::Keys(task.source_key.clone()))?;
        if task.processed_key != upload.processed_key()
            || task.output_key != upload.rotation_key(task.angle)
        {
            return Err(TaskError::Keys(task.source_key));
        }
        if let Some(raw) = &task.sequencer
            && Sequencer::parse(raw).is_none()
        {
            return Err(TaskError::Sequencer(raw.clone()));
        }
        if task
            .provenance
            .as_ref()
            .is_some_and(|provenance| !provenance.is_well_formed())
        {
            return Err(TaskError::Provenance);
        }
        Ok(task)
    }
}

/// What `failed/<name>.json` holds: why the upload was rejected.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FailedRecord {
    pub v: u32,
    pub source_key: String,
    pub code: RejectCode,
    pub message: String,
}

impl FailedRecord {
    pub const VERSION: u32 = 1;

    pub fn new(upload: &UploadKey, rejection: &Rejection) -> Self {
        Self {
            v: Self::VERSION,
            source_key: upload.as_str().to_owned(),
            code: rejection.code,
            message: rejection.message.clone(),
        }
    }

    pub fn to_json(&self) -> Vec<u8> {
        serde_json::to_vec_pretty(self).unwrap_or_else(|err| unreachable!("record JSON: {err}"))
    }

    pub fn rejection(&self) -> Rejection {
        Rejection::new(self.code, self.message.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn task_round_trips_as_documented_json() {
        let key = UploadKey::parse("original-uploads/dir/beach day.jpg").unwrap();
        let [task, ..] = key.tasks("my-bucket");
        let json: serde_json::Value = serde_json::from_str(&task.to_json()).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "v": 1,
                "bucket": "my-bucket",
                "source_key": "original-uploads/dir/beach day.jpg",
                "processed_key": "processed/dir/beach day_256x256.jpg",
                "angle": 90,
                "output_key": "augmented-images/90-degree/dir/beach day_90.jpg",
            })
        );
        assert_eq!(RotationTask::from_json(&task.to_json()).unwrap(), task);
    }

    #[test]
    fn sequencers_compare_after_padding_to_equal_length() {
        let seq = |s: &str| Sequencer::parse(s).unwrap();
        assert!(seq("0055AED6DCD90281E5") < seq("0055AED6DCD90281E6"));
        assert!(seq("0055AED6DCD90281E5") < seq("0100000000000000000"));
        assert!(
            seq("0055AED6DCD90281E5") > seq("0100000000000000"),
            "as 00010000… < 0055…"
        );
        assert!(seq("FF") < seq("0100"), "as 00FF < 0100");
        assert_eq!(seq("0055"), seq("55"));
        assert_eq!(seq("00ab"), seq("00AB"));
        assert!(seq("1") > seq("0"));
        for bad in [
            "",
            "12G4",
            "0x12",
            " 12",
            &"1".repeat(MAX_SEQUENCER_CHARS + 1),
        ] {
            assert!(Sequencer::parse(bad).is_none(), "{bad:?}");
        }
        let recorded = vec![("Source-Sequencer".to_owned(), "00a1".to_owned())];
        assert_eq!(Sequencer::recorded_in(&recorded), Some(seq("A1")));
        assert_eq!(Sequencer::recorded_in(&[]), None);
    }

    #[test]
    fn event_times_are_s3s_one_form_and_order_as_text() {
        let time = |s: &str| EventTime::parse(s).unwrap();
        assert!(time("2026-11-28T12:00:00.000Z") < time("2026-11-28T12:00:00.001Z"));
        assert!(time("2026-11-28T23:59:59.999Z") < time("2026-11-29T00:00:00.000Z"));
        for bad in [
            "",
            "2026-11-28T12:00:00Z",
            "2026-11-28T12:00:00.000+00:00",
            "2026-11-28 12:00:00.000Z",
            "2026-11-28T12:00:00.0000Z",
            "2026-1a-28T12:00:00.000Z",
        ] {
            assert!(EventTime::parse(bad).is_none(), "{bad:?}");
        }
    }

    #[test]
    fn a_task_carries_its_upload_sequencer_and_stays_version_1() {
        let key = UploadKey::parse("original-uploads/cat.jpg").unwrap();
        let [mut task, ..] = key.tasks("b");
        task.sequencer = Some("0055AED6DCD90281E5".into());
        let json: serde_json::Value = serde_json::from_str(&task.to_json()).unwrap();
        assert_eq!(json["v"], 1);
        assert_eq!(json["sequencer"], "0055AED6DCD90281E5");
        assert_eq!(RotationTask::from_json(&task.to_json()).unwrap(), task);
        task.sequencer = Some("not hex".into());
        assert!(matches!(
            RotationTask::from_json(&task.to_json()),
            Err(TaskError::Sequencer(_))
        ));
    }

    #[test]
    fn a_task_carries_its_upload_provenance_and_stays_version_1() {
        let key = UploadKey::parse("original-uploads/cat.jpg").unwrap();
        let [mut task, ..] = key.tasks("b");
        task.provenance = Some(Provenance::of_source(b"cat"));
        let json: serde_json::Value = serde_json::from_str(&task.to_json()).unwrap();
        assert_eq!(json["v"], 1);
        assert_eq!(
            json["provenance"]["source_sha256"],
            crate::provenance::sha256_hex(b"cat")
        );
        assert_eq!(RotationTask::from_json(&task.to_json()).unwrap(), task);
        // A forged value would become an output's metadata: refused.
        for forged in [
            Provenance {
                source_sha256: Some("abc".into()),
                ..Provenance::default()
            },
            Provenance {
                parameters: Some("quality=90\r\nx-amz-acl: public-read".into()),
                ..Provenance::default()
            },
        ] {
            task.provenance = Some(forged);
            assert!(matches!(
                RotationTask::from_json(&task.to_json()),
                Err(TaskError::Provenance)
            ));
        }
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
    fn a_task_with_any_key_is_json_sqs_carries_and_round_trips() {
        // SQS: #x9 | #xA | #xD | #x20-#xD7FF | #xE000-#xFFFD | #x10000-#x10FFFF.
        let sqs_safe = |c: char| {
            matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}')
                || c >= '\u{10000}'
        };
        let controls: String = ('\u{0}'..='\u{1F}').collect();
        for name in [
            "a\u{FFFE}b",
            "\u{FFFF}",
            "x\u{FFFE}\u{FFFF}\u{FFFD}\u{10FFFF}\u{1FFFE}",
            &controls,
            "\u{7F}\u{85}\u{2028}\"\\",
        ] {
            let upload = UploadKey::from_name(name, "jpg").unwrap();
            for task in upload.tasks("bucket") {
                let json = task.to_json();
                assert!(json.chars().all(sqs_safe), "{json:?}");
                assert_eq!(RotationTask::from_json(&json).unwrap(), task);
            }
        }
        let json = UploadKey::from_name("a\u{FFFE}", "jpg").unwrap().tasks("b")[0].to_json();
        assert!(json.contains("a\\ufffe.jpg"), "{json}");
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

    #[test]
    fn bad_tasks_are_refused() {
        let key = UploadKey::parse("original-uploads/cat.jpg").unwrap();
        let good = serde_json::to_value(&key.tasks("b")[0]).unwrap();
        let with = |field: &str, value: serde_json::Value| {
            let mut v = good.clone();
            v[field] = value;
            v.to_string()
        };
        assert!(matches!(
            RotationTask::from_json("not json"),
            Err(TaskError::Json(_))
        ));
        assert!(matches!(
            RotationTask::from_json(&with("angle", 45.into())),
            Err(TaskError::Json(_))
        ));
        assert!(matches!(
            RotationTask::from_json(&with("v", 2.into())),
            Err(TaskError::Version(2))
        ));
        assert!(matches!(
            RotationTask::from_json(&with("output_key", "original-uploads/evil.jpg".into())),
            Err(TaskError::Keys(_))
        ));
        assert!(matches!(
            RotationTask::from_json(&with("angle", 180.into())),
            Err(TaskError::Keys(_))
        ));
        assert!(matches!(
            RotationTask::from_json(&with("source_key", "processed/cat.jpg".into())),
            Err(TaskError::Keys(_))
        ));
    }
}
