//! The manifest: one row per exported output, as `manifest.csv` and
//! `manifest.jsonl` at the export's root, written to temporary files and renamed
//! into place at the end, so a manifest is never half there.

use std::fs::File;
use std::io::{self, BufWriter, Write as _};
use std::path::Path;

use serde::{Deserialize, Serialize};
use tempfile::NamedTempFile;

use crate::files::TEMP_PREFIX;

/// The manifest's files at the root of an export.
pub const MANIFEST_CSV: &str = "manifest.csv";
pub const MANIFEST_JSONL: &str = "manifest.jsonl";

/// One exported output: where it is, what it is, and where it came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManifestRow {
    /// Its file, relative to the export's root (`train/cats/tom_90.jpg`), or
    /// `<shard>#<member>` in a `WebDataset` export; empty in a manifest-only one.
    pub file: String,
    pub split: String,
    /// The class folder; empty for a flat upload.
    pub label: String,
    /// 90, 180, 270 or 360 (counter-clockwise; 360 is the upright image).
    pub angle: u16,
    /// `<name>` of the upload (the bucket contract's).
    pub name: String,
    pub output_key: String,
    pub output_sha256: String,
    /// The upload it was made from; empty when the bucket no longer says.
    pub source_key: String,
    pub source_sha256: String,
    /// What kept it together with its kin in one split: `sha256:<source's>`,
    /// or `upright-sha256:<the 360 image's>` when the source's is not known.
    pub group: String,
    /// The pipeline that made it (from the output's metadata); empty for outputs
    /// made before it was recorded.
    pub pipeline_version: String,
    pub parameters: String,
}

/// Both manifest files, being written.
pub(crate) struct ManifestWriter {
    csv: csv::Writer<BufWriter<NamedTempFile>>,
    jsonl: BufWriter<NamedTempFile>,
}

impl ManifestWriter {
    pub(crate) fn create(dest: &Path) -> io::Result<Self> {
        let temp = || {
            tempfile::Builder::new()
                .prefix(TEMP_PREFIX)
                .tempfile_in(dest)
        };
        Ok(Self {
            csv: csv::Writer::from_writer(BufWriter::new(temp()?)),
            jsonl: BufWriter::new(temp()?),
        })
    }

    pub(crate) fn add(&mut self, row: &ManifestRow) -> io::Result<()> {
        self.csv.serialize(row).map_err(io::Error::other)?;
        serde_json::to_writer(&mut self.jsonl, row)?;
        self.jsonl.write_all(b"\n")
    }

    /// Flushes both and gives them their names.
    pub(crate) fn finish(self, dest: &Path) -> io::Result<()> {
        let csv = self
            .csv
            .into_inner()
            .map_err(|err| io::Error::other(err.to_string()))?;
        persist(csv, &dest.join(MANIFEST_CSV))?;
        persist(self.jsonl, &dest.join(MANIFEST_JSONL))
    }
}

/// A buffered temporary file flushed and renamed to `path` (over what an
/// interrupted run of the same export left there).
pub(crate) fn persist(file: BufWriter<NamedTempFile>, path: &Path) -> io::Result<()> {
    let temp = file.into_inner().map_err(io::IntoInnerError::into_error)?;
    temp.persist(path).map(drop).map_err(|err| err.error)
}

/// The rows of `manifest.jsonl` in `root`, one at a time.
pub(crate) fn read_rows(root: &Path) -> io::Result<impl Iterator<Item = io::Result<ManifestRow>>> {
    use std::io::BufRead as _;
    let file = File::open(root.join(MANIFEST_JSONL))?;
    Ok(io::BufReader::new(file)
        .lines()
        .filter(|line| line.as_ref().map_or(true, |line| !line.trim().is_empty()))
        .map(|line| {
            line.and_then(|line| {
                serde_json::from_str(&line)
                    .map_err(|err| io::Error::new(io::ErrorKind::InvalidData, err))
            })
        }))
}
