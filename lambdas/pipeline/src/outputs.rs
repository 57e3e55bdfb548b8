//! What an upload becomes: the one list of an upload's outputs, their keys, and
//! when the upload is complete. The Lambdas, local mode, the client, the CLI and the
//! app all ask this module; nobody builds an output key or counts rotations by hand.
//!
//! Adding an output (a flip, a second size) is a new [`Output`] variant, its key in
//! [`Output::key`] and [`Output::parse_key`], and the image step that makes it;
//! everything that lists, watches, downloads or deletes outputs follows from
//! [`Output::ALL`].

use std::fmt;

use crate::contract::{Angle, FAILED_PREFIX, KeyRules, PROCESSED_PREFIX, UploadKey};
use crate::limits::FAILED_KEY_NAME_BYTES;
use crate::reject::{RejectCode, Rejection};

/// What `processed/<name>` ends in.
const PROCESSED_SUFFIX: &str = "_256x256.jpg";

/// One image the pipeline makes from an upload.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Output {
    /// `processed/<name>_256x256.jpg`: the upload fitted onto the white canvas.
    Processed,
    /// `augmented-images/<angle>-degree/<name>_<angle>.jpg`: a lossless rotation of
    /// the processed image.
    Rotation(Angle),
}

impl Output {
    /// Every output, in the order the pipeline makes them.
    pub const ALL: [Self; 5] = [
        Self::Processed,
        Self::Rotation(Angle::Deg90),
        Self::Rotation(Angle::Deg180),
        Self::Rotation(Angle::Deg270),
        Self::Rotation(Angle::Deg360),
    ];

    /// The outputs the rotation worker makes, one task each, in angle order.
    pub const ROTATIONS: [Self; 4] = [
        Self::Rotation(Angle::Deg90),
        Self::Rotation(Angle::Deg180),
        Self::Rotation(Angle::Deg270),
        Self::Rotation(Angle::Deg360),
    ];

    /// The key of this output of `upload` (a pure function of its `<name>`).
    pub fn key(self, upload: &UploadKey) -> String {
        self.key_of_name(upload.name())
    }

    /// The key of this output for `<name>`.
    pub fn key_of_name(self, name: &str) -> String {
        match self {
            Self::Processed => format!("{PROCESSED_PREFIX}{name}{PROCESSED_SUFFIX}"),
            Self::Rotation(angle) => {
                format!("{}{name}_{angle}.jpg", self.prefix())
            }
        }
    }

    /// The folder (key prefix) every upload's output of this kind is under.
    pub fn prefix(self) -> &'static str {
        match self {
            Self::Processed => PROCESSED_PREFIX,
            Self::Rotation(Angle::Deg90) => "augmented-images/90-degree/",
            Self::Rotation(Angle::Deg180) => "augmented-images/180-degree/",
            Self::Rotation(Angle::Deg270) => "augmented-images/270-degree/",
            Self::Rotation(Angle::Deg360) => "augmented-images/360-degree/",
        }
    }

    /// The angle of a rotation; `None` for the processed image.
    pub fn angle(self) -> Option<Angle> {
        match self {
            Self::Processed => None,
            Self::Rotation(angle) => Some(angle),
        }
    }

    /// A short stable name: `processed`, `90`, `180`, `270`, `360` (manifests, logs).
    pub fn code(self) -> &'static str {
        match self {
            Self::Processed => "processed",
            Self::Rotation(Angle::Deg90) => "90",
            Self::Rotation(Angle::Deg180) => "180",
            Self::Rotation(Angle::Deg270) => "270",
            Self::Rotation(Angle::Deg360) => "360",
        }
    }

    /// The inverse of [`Output::key`]: `(<name>, output)` for any output key, `None`
    /// for anything else.
    pub fn parse_key(key: &str) -> Option<(&str, Self)> {
        Self::ALL.into_iter().find_map(|output| {
            let rest = key.strip_prefix(output.prefix())?;
            let name = match output {
                Self::Processed => rest.strip_suffix(PROCESSED_SUFFIX)?,
                Self::Rotation(angle) => rest
                    .strip_suffix(".jpg")?
                    .strip_suffix(angle_suffix(angle))?,
            };
            (!name.is_empty()).then_some((name, output))
        })
    }

    /// Its index in [`Output::ALL`].
    fn index(self) -> usize {
        match self {
            Self::Processed => 0,
            Self::Rotation(Angle::Deg90) => 1,
            Self::Rotation(Angle::Deg180) => 2,
            Self::Rotation(Angle::Deg270) => 3,
            Self::Rotation(Angle::Deg360) => 4,
        }
    }
}

/// `_<angle>` as a rotation key writes it before `.jpg`.
fn angle_suffix(angle: Angle) -> &'static str {
    match angle {
        Angle::Deg90 => "_90",
        Angle::Deg180 => "_180",
        Angle::Deg270 => "_270",
        Angle::Deg360 => "_360",
    }
}

impl fmt::Display for Output {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Processed => f.write_str("processed image"),
            Self::Rotation(angle) => write!(f, "{angle}° rotation"),
        }
    }
}

/// Any key of the bucket, classified by the contract: which upload name it belongs
/// to and what it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BucketKey<'a> {
    /// `original-uploads/<name>.<ext>`.
    Upload(UploadKey),
    /// One of an upload's outputs.
    Output { name: &'a str, output: Output },
    /// `failed/<name>.json`; `name` is `None` for the short form of a long name
    /// (`failed/<first bytes>~<hash>.json`), which only the record itself names.
    Failed { name: Option<&'a str> },
    /// Anything else (a folder marker, a foreign object).
    Other,
}

impl<'a> BucketKey<'a> {
    pub fn parse(key: &'a str) -> Self {
        if let Some((name, output)) = Output::parse_key(key) {
            return Self::Output { name, output };
        }
        if let Some(rest) = key.strip_prefix(FAILED_PREFIX) {
            let Some(name) = rest.strip_suffix(".json").filter(|n| !n.is_empty()) else {
                return Self::Other;
            };
            // The long form is exactly what `failed_key` writes for this name; a
            // name in the short form's shape may be either, and only its record says.
            let full = !is_short_form(name)
                && UploadKey::from_name(name, "jpg").is_ok_and(|upload| upload.failed_key() == key);
            return Self::Failed {
                name: full.then_some(name),
            };
        }
        match UploadKey::parse(key) {
            Ok(upload) if upload.name().is_empty() => Self::Other,
            Ok(upload) => Self::Upload(upload),
            Err(_) => Self::Other,
        }
    }
}

/// Whether a failed record's `<name>` has the shape of the short form
/// (`<at most FAILED_KEY_NAME_BYTES bytes>~<16 hex digits>`).
fn is_short_form(name: &str) -> bool {
    name.rsplit_once('~').is_some_and(|(head, hash)| {
        head.len() <= FAILED_KEY_NAME_BYTES
            && hash.len() == 16
            && hash.bytes().all(|b| b.is_ascii_hexdigit())
    })
}

/// What exists of one upload's outputs: the one rule of "complete".
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Landed {
    bits: u8,
}

impl Landed {
    /// Every output there.
    pub const ALL: Self = Self {
        bits: (1 << Output::ALL.len()) - 1,
    };

    pub fn insert(&mut self, output: Output) {
        self.bits |= 1 << output.index();
    }

    pub fn remove(&mut self, output: Output) {
        self.bits &= !(1 << output.index());
    }

    pub fn contains(self, output: Output) -> bool {
        self.bits & (1 << output.index()) != 0
    }

    /// Every output the pipeline makes exists: nothing more will come.
    pub fn is_complete(self) -> bool {
        self == Self::ALL
    }

    /// Nothing exists yet.
    pub fn is_empty(self) -> bool {
        self.bits == 0
    }

    /// How many of the rotations exist.
    pub fn rotations(self) -> usize {
        Output::ROTATIONS
            .into_iter()
            .filter(|&o| self.contains(o))
            .count()
    }

    /// The outputs that exist, in [`Output::ALL`] order.
    pub fn present(self) -> impl Iterator<Item = Output> {
        Output::ALL.into_iter().filter(move |&o| self.contains(o))
    }

    /// The outputs still missing, in [`Output::ALL`] order.
    pub fn missing(self) -> impl Iterator<Item = Output> {
        Output::ALL.into_iter().filter(move |&o| !self.contains(o))
    }
}

impl FromIterator<Output> for Landed {
    fn from_iter<I: IntoIterator<Item = Output>>(iter: I) -> Self {
        let mut landed = Self::default();
        for output in iter {
            landed.insert(output);
        }
        landed
    }
}

// Here, not in contract/key.rs: these keys are the outputs', so this file stands
// above the key's, and the key knows nothing of outputs.
impl UploadKey {
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
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contract::AUGMENTED_PREFIX;

    #[test]
    fn every_output_key_parses_back_to_its_name_and_kind() {
        for name in ["cat", "trip/beach day", "a_90", "x_256x256", "ÄÖ/日本 +%"] {
            let upload = UploadKey::from_name(name, "PNG").unwrap();
            for output in Output::ALL {
                let key = output.key(&upload);
                assert!(key.starts_with(output.prefix()), "{key}");
                if output.angle().is_some() {
                    assert!(key.starts_with(AUGMENTED_PREFIX), "{key}");
                }
                assert_eq!(Output::parse_key(&key), Some((name, output)), "{key}");
                assert_eq!(
                    BucketKey::parse(&key),
                    BucketKey::Output { name, output },
                    "{key}"
                );
            }
        }
    }

    #[test]
    fn the_keys_are_the_bucket_contract() {
        let upload = UploadKey::parse("original-uploads/cat.jpg").unwrap();
        let keys = Output::ALL.map(|o| o.key(&upload));
        assert_eq!(
            keys,
            [
                "processed/cat_256x256.jpg",
                "augmented-images/90-degree/cat_90.jpg",
                "augmented-images/180-degree/cat_180.jpg",
                "augmented-images/270-degree/cat_270.jpg",
                "augmented-images/360-degree/cat_360.jpg",
            ]
        );
        assert_eq!(
            Output::ROTATIONS.map(Output::angle),
            Angle::ALL.map(Some),
            "rotations in angle order"
        );
    }

    #[test]
    fn other_keys_are_not_outputs() {
        for key in [
            "processed/cat.jpg",
            "processed/_256x256.jpg",
            "augmented-images/90-degree/cat_180.jpg",
            "augmented-images/90-degree/_90.jpg",
            "augmented-images/45-degree/cat_45.jpg",
            "augmented-images/90-degree/cat_90.png",
            "failed/cat.json",
        ] {
            assert_eq!(Output::parse_key(key), None, "{key}");
        }
    }

    #[test]
    fn bucket_keys_are_classified() {
        assert!(matches!(
            BucketKey::parse("original-uploads/dir/cat.JPG"),
            BucketKey::Upload(u) if u.name() == "dir/cat"
        ));
        assert_eq!(
            BucketKey::parse("failed/dir/cat.json"),
            BucketKey::Failed {
                name: Some("dir/cat")
            }
        );
        let long = UploadKey::from_name(&"x".repeat(300), "jpg").unwrap();
        assert_eq!(
            BucketKey::parse(&long.failed_key()),
            BucketKey::Failed { name: None }
        );
        for other in ["original-uploads/dir/", "failed/", "failed/x.txt", "readme"] {
            assert_eq!(BucketKey::parse(other), BucketKey::Other, "{other}");
        }
    }

    #[test]
    fn complete_means_every_output() {
        let mut landed = Landed::default();
        assert!(landed.is_empty());
        for output in Output::ROTATIONS {
            landed.insert(output);
        }
        assert_eq!(landed.rotations(), 4);
        assert!(
            !landed.is_complete(),
            "the processed image is an output too"
        );
        assert_eq!(landed.missing().collect::<Vec<_>>(), [Output::Processed]);
        landed.insert(Output::Processed);
        assert!(landed.is_complete());
        landed.remove(Output::Rotation(Angle::Deg180));
        assert!(!landed.is_complete());
        assert_eq!(
            Output::ALL.into_iter().collect::<Landed>(),
            Landed::ALL,
            "collects"
        );
    }
}
