//! The image-folder layout: `<split>/<label>/<name>_<angle>.jpg` and a
//! `metadata.jsonl` per split. torchvision's `ImageFolder` reads each split's
//! folder (a class per folder, images found below it at any depth); Hugging
//! Face's `imagefolder` reads the splits by their folder names and each
//! `metadata.jsonl` (its `file_name` relative to the split, the label a column).

use std::collections::BTreeMap;
use std::io::{self, BufWriter, Write as _};
use std::path::{Path, PathBuf};

use augment_local::key_path;
use serde_json::json;
use tempfile::NamedTempFile;

use super::label::label_folder;
use super::manifest::{ManifestRow, persist};
use super::source::Exported;
use crate::files::{Existing, write_atomically};

/// Each split's metadata file, as Hugging Face's loader looks for it.
pub const METADATA_JSONL: &str = "metadata.jsonl";

pub(crate) struct ImageFolder {
    dest: PathBuf,
    metadata: BTreeMap<String, BufWriter<NamedTempFile>>,
}

impl ImageFolder {
    pub(crate) fn new(dest: &Path) -> Self {
        Self {
            dest: dest.to_owned(),
            metadata: BTreeMap::new(),
        }
    }

    /// Writes the upload's outputs, filling each row's `file`.
    pub(crate) fn add(&mut self, upload: &Exported, rows: &mut [ManifestRow]) -> io::Result<()> {
        let folders = upload.rest.rsplit_once('/').map(|(folders, _)| folders);
        for (output, row) in upload.outputs.iter().zip(rows) {
            // The rotation key's own file name: `<last part of name>_<angle>.jpg`.
            let file_name = output.key.rsplit('/').next().unwrap_or(&output.key);
            let within: Vec<String> = upload
                .label
                .as_deref()
                .map(label_folder)
                .into_iter()
                .chain(folders.map(str::to_owned))
                .chain([file_name.to_owned()])
                .collect();
            let within = within.join("/");
            let file = format!("{}/{within}", upload.split);
            let path = key_path(&self.dest, &file).map_err(io::Error::other)?;
            write_atomically(&path, &output.bytes, None, Existing::Refuse)
                .map_err(|err| io::Error::new(err.kind(), format!("{err}: {}", path.display())))?;
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
                .prefix(".augment-tmp-")
                .tempfile_in(&dir)?;
            self.metadata.insert(split.to_owned(), BufWriter::new(temp));
        }
        self.metadata
            .get_mut(split)
            .ok_or_else(|| io::Error::other("the split's metadata file was just made"))
    }

    pub(crate) fn finish(self) -> io::Result<()> {
        for (split, file) in self.metadata {
            persist(file, &self.dest.join(split).join(METADATA_JSONL))?;
        }
        Ok(())
    }
}
