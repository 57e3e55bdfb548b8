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

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::reject::{RejectCode, Rejection};

pub const UPLOAD_PREFIX: &str = "original-uploads/";
pub const PROCESSED_PREFIX: &str = "processed/";
pub const AUGMENTED_PREFIX: &str = "augmented-images/";
pub const FAILED_PREFIX: &str = "failed/";

/// Extensions an upload key may end in (compared case-insensitively).
pub const UPLOAD_EXTENSIONS: [&str; 3] = ["jpg", "jpeg", "png"];
/// What follows `<name>` in a processed key.
const PROCESSED_SUFFIX: &str = "_256x256.jpg";

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

    pub fn processed_key(&self) -> String {
        format!("{PROCESSED_PREFIX}{}{PROCESSED_SUFFIX}", self.name())
    }

    /// The inverse of [`UploadKey::processed_key`]: an upload key whose outputs
    /// include `key` (`<name>.jpg`: every output key depends on the name only),
    /// or `None` for anything else under `processed/`.
    pub fn from_processed_key(key: &str) -> Option<Self> {
        let name = key
            .strip_prefix(PROCESSED_PREFIX)?
            .strip_suffix(PROCESSED_SUFFIX)
            .filter(|name| !name.is_empty())?;
        Self::from_name(name, "jpg").ok()
    }

    pub fn rotation_key(&self, angle: Angle) -> String {
        format!(
            "{AUGMENTED_PREFIX}{angle}-degree/{}_{angle}.jpg",
            self.name()
        )
    }

    pub fn failed_key(&self) -> String {
        format!("{FAILED_PREFIX}{}.json", self.name())
    }

    /// The four rotation tasks for this upload, in angle order.
    pub fn tasks(&self, bucket: &str) -> [RotationTask; 4] {
        Angle::ALL.map(|angle| RotationTask {
            v: RotationTask::VERSION,
            bucket: bucket.to_owned(),
            source_key: self.key.clone(),
            processed_key: self.processed_key(),
            angle,
            output_key: self.rotation_key(angle),
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
}

impl RotationTask {
    pub const VERSION: u32 = 1;

    pub fn to_json(&self) -> String {
        // Serializing plain strings and numbers cannot fail.
        serde_json::to_string(self).unwrap_or_else(|err| unreachable!("task JSON: {err}"))
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
