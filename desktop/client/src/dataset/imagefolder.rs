//! The image-folder layout: `<split>/<label>/<name>_<angle>.jpg` and a
//! `metadata.jsonl` per split. torchvision's `ImageFolder` reads each split's
//! folder (a class per folder, images found below it at any depth); Hugging
//! Face's `imagefolder` reads the splits by their folder names and each
//! `metadata.jsonl` (its `file_name` relative to the split, the label a column).
//!
//! Uploads with no class folder: with no labels asked for (label depth 0)
//! every file goes under `<split>/unlabeled/` ([`UNLABELED`]), the one folder
//! torchvision needs (one class, index 0) while Hugging Face reads the same
//! files through `metadata.jsonl` with an empty label. In a labelled export a
//! flat upload has no class: its files sit at the split's root, listed in
//! `metadata.jsonl` (label null) for Hugging Face, and outside every class
//! folder, which is where torchvision does not look (it reads class folders
//! only): a flat file never becomes a class of its own nor lands in another's.

use std::collections::BTreeMap;
use std::io::{self, BufWriter, Write as _};
use std::path::{Path, PathBuf};

use augment_local::key_path;
use serde_json::json;
use tempfile::NamedTempFile;

use super::label::label_folder;
use super::manifest::{ManifestRow, persist};
use super::source::Exported;
use crate::files::{Existing, TEMP_PREFIX, holds, write_atomically};

/// Each split's metadata file, as Hugging Face's loader looks for it.
pub const METADATA_JSONL: &str = "metadata.jsonl";

/// The one folder of an export without labels.
pub const UNLABELED: &str = "unlabeled";

pub(crate) struct ImageFolder {
    dest: PathBuf,
    metadata: BTreeMap<String, BufWriter<NamedTempFile>>,
    /// Labels were asked for (label depth above 0).
    labelled: bool,
    /// Continuing an interrupted export: a file already there with the
    /// output's bytes is kept, one with other bytes replaced.
    resumed: bool,
    kept: u64,
}

impl ImageFolder {
    pub(crate) fn new(dest: &Path, labelled: bool, resumed: bool) -> Self {
        Self {
            dest: dest.to_owned(),
            metadata: BTreeMap::new(),
            labelled,
            resumed,
            kept: 0,
        }
    }

    /// The folder an upload's files go in below its split.
    fn class_folder(&self, label: Option<&str>) -> Option<String> {
        match label {
            Some(label) => Some(label_folder(label)),
            None if !self.labelled => Some(UNLABELED.to_owned()),
            None => None,
        }
    }

    /// One output's file: kept when an interrupted run wrote it whole.
    fn write(&mut self, path: &Path, bytes: &[u8], sha256: &str) -> io::Result<()> {
        if self.resumed && holds(path, bytes, sha256) {
            self.kept += 1;
            return Ok(());
        }
        let existing = if self.resumed {
            Existing::Replace
        } else {
            Existing::Refuse
        };
        write_atomically(path, bytes, None, existing)
            .map_err(|err| io::Error::new(err.kind(), format!("{err}: {}", path.display())))
    }

    /// Writes the upload's outputs, filling each row's `file`.
    pub(crate) fn add(&mut self, upload: &Exported, rows: &mut [ManifestRow]) -> io::Result<()> {
        let folders = upload.rest.rsplit_once('/').map(|(folders, _)| folders);
        for (output, row) in upload.outputs.iter().zip(rows) {
            // The rotation key's own file name: `<last part of name>_<angle>.jpg`.
            let file_name = output.key.rsplit('/').next().unwrap_or(&output.key);
            let within: Vec<String> = self
                .class_folder(upload.label.as_deref())
                .into_iter()
                .chain(folders.map(str::to_owned))
                .chain([file_name.to_owned()])
                .collect();
            let within = within.join("/");
            let file = format!("{}/{within}", upload.split);
            let path = key_path(&self.dest, &file).map_err(io::Error::other)?;
            self.write(&path, &output.bytes, &output.sha256)?;
            let line = json!({
                "file_name": within,
                "label": upload.label,
                "angle": output.angle.degrees(),
                "name": upload.name,
                "group": upload.group,
                "source_key": upload.source_key,
            });
            let metadata = self.metadata_of(&upload.split)?;
            serde_json::to_writer(&mut *metadata, &line)?;
            metadata.write_all(b"\n")?;
            row.file = file;
        }
        Ok(())
    }

    fn metadata_of(&mut self, split: &str) -> io::Result<&mut BufWriter<NamedTempFile>> {
        if !self.metadata.contains_key(split) {
            let dir = self.dest.join(split);
            std::fs::create_dir_all(&dir)?;
            let temp = tempfile::Builder::new()
                .prefix(TEMP_PREFIX)
                .tempfile_in(&dir)?;
            self.metadata.insert(split.to_owned(), BufWriter::new(temp));
        }
        self.metadata
            .get_mut(split)
            .ok_or_else(|| io::Error::other("the split's metadata file was just made"))
    }

    /// The metadata files in place; how many image files were kept.
    pub(crate) fn finish(self) -> io::Result<u64> {
        for (split, file) in self.metadata {
            persist(file, &self.dest.join(split).join(METADATA_JSONL))?;
        }
        Ok(self.kept)
    }
}
