//! Stand-in for the lead's outputs model until it lands on main (same API, the
//! part the dataset branch uses); replaced by main's file on merge.

use crate::contract::{Angle, PROCESSED_PREFIX, UploadKey};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Output {
    Processed,
    Rotation(Angle),
}

impl Output {
    pub const ALL: [Self; 5] = [
        Self::Processed,
        Self::Rotation(Angle::Deg90),
        Self::Rotation(Angle::Deg180),
        Self::Rotation(Angle::Deg270),
        Self::Rotation(Angle::Deg360),
    ];
    pub const ROTATIONS: [Self; 4] = [
        Self::Rotation(Angle::Deg90),
        Self::Rotation(Angle::Deg180),
        Self::Rotation(Angle::Deg270),
        Self::Rotation(Angle::Deg360),
    ];

    pub fn key(self, upload: &UploadKey) -> String {
        match self {
            Self::Processed => upload.processed_key(),
            Self::Rotation(angle) => upload.rotation_key(angle),
        }
    }

    pub fn angle(self) -> Option<Angle> {
        match self {
            Self::Processed => None,
            Self::Rotation(angle) => Some(angle),
        }
    }

    pub fn prefix(self) -> &'static str {
        match self {
            Self::Processed => PROCESSED_PREFIX,
            Self::Rotation(Angle::Deg90) => "augmented-images/90-degree/",
            Self::Rotation(Angle::Deg180) => "augmented-images/180-degree/",
            Self::Rotation(Angle::Deg270) => "augmented-images/270-degree/",
            Self::Rotation(Angle::Deg360) => "augmented-images/360-degree/",
        }
    }
}

/// Any key of the bucket, classified (the part of the lead's model used here).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BucketKey {
    Upload(UploadKey),
    Output { name: String, output: Output },
    Failed { name: Option<String> },
    Other,
}

impl BucketKey {
    pub fn parse(key: &str) -> Self {
        for output in Output::ALL {
            let suffix = match output.angle() {
                None => "_256x256.jpg".to_owned(),
                Some(angle) => format!("_{angle}.jpg"),
            };
            if let Some(name) = key
                .strip_prefix(output.prefix())
                .and_then(|rest| rest.strip_suffix(suffix.as_str()))
                .filter(|name| !name.is_empty())
            {
                return Self::Output {
                    name: name.to_owned(),
                    output,
                };
            }
        }
        match UploadKey::parse(key) {
            Ok(upload) => Self::Upload(upload),
            Err(_) => Self::Other,
        }
    }
}
