//! The `WebDataset` layout: per split, tar shards `<split>/<split>-000000.tar` of
//! at most `--shard-size` bytes (a sample larger than that gets a shard of its
//! own), one sample per output: `<key>.jpg`, `<key>.cls` (the label's index in
//! `classes.txt`, for a labelled upload) and `<key>.json` (its manifest row).
//! Keys are `<upload number in the split, 8 digits>_<angle>`: no dots, which
//! `WebDataset` would read as the start of an extension. Members have fixed times
//! and owners, so the same export makes the same bytes.

use std::collections::BTreeMap;
use std::io::{self, BufWriter};
use std::path::{Path, PathBuf};

use tempfile::NamedTempFile;

use super::manifest::{ManifestRow, persist};
use super::source::Exported;
use crate::files::TEMP_PREFIX;

/// Bytes of a tar header, and the block every member is padded to.
const TAR_BLOCK: u64 = 512;

struct Shard {
    builder: tar::Builder<BufWriter<NamedTempFile>>,
    /// Relative to the export's root.
    file: String,
    bytes: u64,
}

#[derive(Default)]
struct SplitShards {
    next_shard: u32,
    uploads: u64,
    open: Option<Shard>,
}

pub(crate) struct WebDataset {
    dest: PathBuf,
    shard_bytes: u64,
    classes: BTreeMap<String, usize>,
    splits: BTreeMap<String, SplitShards>,
}

impl WebDataset {
    pub(crate) fn new(dest: &Path, shard_bytes: u64, classes: BTreeMap<String, usize>) -> Self {
        Self {
            dest: dest.to_owned(),
            shard_bytes,
            classes,
            splits: BTreeMap::new(),
        }
    }

    /// Writes the upload's outputs as samples, filling each row's `file` with
    /// `<shard>#<member>`.
    pub(crate) fn add(&mut self, upload: &Exported, rows: &mut [ManifestRow]) -> io::Result<()> {
        let class = upload
            .label
            .as_ref()
            .and_then(|label| self.classes.get(label))
            .map(ToString::to_string);
        let state = self.splits.entry(upload.split.clone()).or_default();
        let number = state.uploads;
        state.uploads += 1;
        let members: u64 = upload
            .outputs
            .iter()
            .map(|output| 3 * TAR_BLOCK + padded(output.bytes.len() as u64) + 2 * TAR_BLOCK)
            .sum();
        if state
            .open
            .as_ref()
            .is_some_and(|shard| shard.bytes > 0 && shard.bytes + members > self.shard_bytes)
            && let Some(full) = state.open.take()
        {
            close(full, &self.dest)?;
        }
        if state.open.is_none() {
            state.open = Some(open(&self.dest, &upload.split, state.next_shard)?);
            state.next_shard += 1;
        }
        let Some(shard) = state.open.as_mut() else {
            return Err(io::Error::other("a shard was just opened"));
        };
        for (output, row) in upload.outputs.iter().zip(rows) {
            let key = format!("{number:08}_{}", output.angle);
            row.file = format!("{}#{key}.jpg", shard.file);
            append(shard, &format!("{key}.jpg"), &output.bytes)?;
            if let Some(class) = &class {
                append(shard, &format!("{key}.cls"), class.as_bytes())?;
            }
            let json = serde_json::to_vec(row)?;
            append(shard, &format!("{key}.json"), &json)?;
        }
        Ok(())
    }

    pub(crate) fn finish(self) -> io::Result<()> {
        for (_, mut split) in self.splits {
            if let Some(shard) = split.open.take() {
                close(shard, &self.dest)?;
            }
        }
        Ok(())
    }
}

fn padded(len: u64) -> u64 {
    len.div_ceil(TAR_BLOCK) * TAR_BLOCK
}

fn open(dest: &Path, split: &str, number: u32) -> io::Result<Shard> {
    let dir = dest.join(split);
    std::fs::create_dir_all(&dir)?;
    let temp = tempfile::Builder::new()
        .prefix(TEMP_PREFIX)
        .tempfile_in(&dir)?;
    Ok(Shard {
        builder: tar::Builder::new(BufWriter::new(temp)),
        file: format!("{split}/{split}-{number:06}.tar"),
        bytes: 0,
    })
}

fn append(shard: &mut Shard, member: &str, data: &[u8]) -> io::Result<()> {
    let mut header = tar::Header::new_ustar();
    header.set_size(data.len() as u64);
    header.set_mode(0o644);
    header.set_mtime(0);
    header.set_uid(0);
    header.set_gid(0);
    header.set_entry_type(tar::EntryType::Regular);
    shard.builder.append_data(&mut header, member, data)?;
    shard.bytes += TAR_BLOCK + padded(data.len() as u64);
    Ok(())
}

fn close(shard: Shard, dest: &Path) -> io::Result<()> {
    let file = shard.builder.into_inner()?;
    persist(file, &dest.join(&shard.file))
}
