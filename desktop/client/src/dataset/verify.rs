//! `augment verify`: every rotation is the exact lossless transform of its
//! upright image (the bytes `imaging::rotate_jpeg_bytes` makes, and the 360 one
//! is the processed image's bytes), every hash in a manifest matches its file,
//! and nothing listed is missing. For an export (its `manifest.jsonl`), a
//! download (the bucket's layout) or the bucket itself. Problems are a report,
//! not errors: an error is what stops the check (no manifest, a listing that
//! fails).

use std::collections::HashMap;
use std::io::{self, Read as _};
use std::path::Path;

use augment_local::key_path;
use augment_pipeline::imaging::rotate_jpeg_bytes;
use augment_pipeline::limits::MAX_OUTPUT_BYTES;
use augment_pipeline::outputs::{BucketKey, Output};
use augment_pipeline::provenance::sha256_hex;
use augment_pipeline::{Angle, UploadKey};
use tokio::task::JoinSet;

use super::manifest::{MANIFEST_JSONL, ManifestRow, read_rows};
use crate::error::{ClientError, ErrorKind};
use crate::names::upload_key_for;
use crate::pages::{Pages, processed_name};
use crate::remote::Remote;

/// What is wrong with one file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProblemKind {
    /// Listed (or owed: a rotation of a processed image) but not there.
    Missing,
    /// Its SHA-256 is not the manifest's.
    HashMismatch,
    /// Not the exact rotation of its upright image.
    NotExactRotation,
    /// There, but it could not be read.
    Unreadable,
}

impl ProblemKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Missing => "missing",
            Self::HashMismatch => "hash mismatch",
            Self::NotExactRotation => "not the exact rotation",
            Self::Unreadable => "unreadable",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub kind: ProblemKind,
    /// The file (relative to the folder) or the key.
    pub file: String,
    pub detail: String,
}

/// What a check found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VerifyReport {
    /// Files (or objects) looked at.
    pub files: u64,
    pub problems: Vec<Problem>,
}

impl VerifyReport {
    pub fn is_clean(&self) -> bool {
        self.problems.is_empty()
    }

    fn problem(&mut self, kind: ProblemKind, file: &str, detail: impl Into<String>) {
        self.problems.push(Problem {
            kind,
            file: file.to_owned(),
            detail: detail.into(),
        });
    }

    /// Each of `rotations` against `upright`: the 360 one byte for byte, the
    /// others as the lossless transform makes them.
    fn check_rotations<'a>(
        &mut self,
        upright: &[u8],
        rotations: impl IntoIterator<Item = (Angle, &'a str, &'a [u8])>,
    ) {
        for (angle, file, bytes) in rotations {
            let exact = match angle {
                Angle::Deg360 => bytes == upright,
                _ => rotate_jpeg_bytes(upright, angle).is_ok_and(|made| made == bytes),
            };
            if !exact {
                self.problem(
                    ProblemKind::NotExactRotation,
                    file,
                    format!("not the {angle}° rotation of its upright image"),
                );
            }
        }
    }
}

/// Checks an export (a folder with `manifest.jsonl`) or a download (the
/// bucket's layout). Blocking: it reads every file.
pub fn verify_folder(root: &Path) -> Result<VerifyReport, ClientError> {
    if root.join(MANIFEST_JSONL).is_file() {
        return verify_export(root);
    }
    let has = |output: Output| root.join(output.prefix()).is_dir();
    if has(Output::Processed) || Output::ROTATIONS.into_iter().any(has) {
        return Ok(verify_download(root));
    }
    Err(ClientError::new(
        ErrorKind::InvalidSettings,
        format!(
            "This folder is neither an export (no {MANIFEST_JSONL}) nor a download (no processed/ or augmented-images/): {}",
            root.display()
        ),
    ))
}

fn verify_export(root: &Path) -> Result<VerifyReport, ClientError> {
    let unreadable =
        |err| ClientError::io("Cannot read the manifest", &root.join(MANIFEST_JSONL), err);
    let mut report = VerifyReport::default();
    let mut shards = Shards::new();
    let mut upload: Vec<(ManifestRow, Option<Vec<u8>>)> = Vec::new();
    for row in read_rows(root).map_err(unreadable)? {
        let row = row.map_err(unreadable)?;
        if upload
            .first()
            .is_some_and(|(first, _)| first.name != row.name || first.split != row.split)
        {
            check_upload(&upload, &mut report);
            upload.clear();
        }
        report.files += 1;
        let bytes = if row.file.is_empty() {
            None
        } else {
            load(root, &row.file, &mut shards, &mut report)
        };
        if let Some(bytes) = &bytes
            && sha256_hex(bytes) != row.output_sha256
        {
            report.problem(
                ProblemKind::HashMismatch,
                &row.file,
                format!("its SHA-256 is not the manifest's {}", row.output_sha256),
            );
        }
        upload.push((row, bytes));
    }
    check_upload(&upload, &mut report);
    Ok(report)
}

/// One upload's rows (consecutive in a manifest): its rotations against its
/// upright image, when both are there.
fn check_upload(rows: &[(ManifestRow, Option<Vec<u8>>)], report: &mut VerifyReport) {
    let Some(upright) = rows
        .iter()
        .find(|(row, _)| row.angle == Angle::Deg360.degrees())
        .and_then(|(_, bytes)| bytes.as_deref())
    else {
        return;
    };
    let rotations = rows.iter().filter_map(|(row, bytes)| {
        let angle = Angle::try_from(row.angle).ok()?;
        (angle != Angle::Deg360).then_some((angle, row.file.as_str(), bytes.as_deref()?))
    });
    report.check_rotations(upright, rotations);
}

/// The shard open in each split's folder (a split's rows come in shard order,
/// but the splits' rows are interleaved): its `.jpg` members by name.
type Shards = HashMap<String, (String, HashMap<String, Vec<u8>>)>;

/// A manifest's file: a path below the root, or `<shard>#<member>`. A shard is
/// read once (its images held while its rows are checked: at most a shard's
/// size for each split).
fn load(
    root: &Path,
    file: &str,
    shards: &mut Shards,
    report: &mut VerifyReport,
) -> Option<Vec<u8>> {
    let Some((tar, member)) = file.split_once('#') else {
        return read_file(root, file, report);
    };
    let folder = tar
        .rsplit_once('/')
        .map_or("", |(folder, _)| folder)
        .to_owned();
    if shards.get(&folder).is_none_or(|(open, _)| open != tar) {
        let members = key_path(root, tar)
            .map_err(io::Error::other)
            .and_then(|path| read_shard(&path));
        let members = members.unwrap_or_else(|err| {
            report.problem(ProblemKind::Unreadable, tar, err.to_string());
            HashMap::new()
        });
        shards.insert(folder.clone(), (tar.to_owned(), members));
    }
    let found = shards
        .get(&folder)
        .and_then(|(_, members)| members.get(member))
        .cloned();
    if found.is_none() {
        report.problem(ProblemKind::Missing, file, "not in its shard");
    }
    found
}

/// The `.jpg` members of a tar shard.
fn read_shard(path: &Path) -> io::Result<HashMap<String, Vec<u8>>> {
    let mut members = HashMap::new();
    let mut archive = tar::Archive::new(std::fs::File::open(path)?);
    for entry in archive.entries()? {
        let mut entry = entry?;
        let name = entry.path()?.to_string_lossy().into_owned();
        if !name.ends_with(".jpg") || entry.size() > MAX_OUTPUT_BYTES {
            continue;
        }
        let mut bytes = Vec::new();
        entry.read_to_end(&mut bytes)?;
        members.insert(name, bytes);
    }
    Ok(members)
}

fn read_file(root: &Path, file: &str, report: &mut VerifyReport) -> Option<Vec<u8>> {
    let read = key_path(root, file)
        .map_err(io::Error::other)
        .and_then(std::fs::read);
    match read {
        Ok(bytes) => Some(bytes),
        Err(err) if err.kind() == io::ErrorKind::NotFound => {
            report.problem(ProblemKind::Missing, file, "listed but not there");
            None
        }
        Err(err) => {
            report.problem(ProblemKind::Unreadable, file, err.to_string());
            None
        }
    }
}

/// A download: each processed image's rotations (when the download has the
/// rotations), else each upright rotation's three others.
fn verify_download(root: &Path) -> VerifyReport {
    let mut report = VerifyReport::default();
    let (base, checked): (Output, &[Output]) = if root.join(Output::Processed.prefix()).is_dir() {
        let has_rotations = Output::ROTATIONS
            .into_iter()
            .any(|output| root.join(output.prefix()).is_dir());
        (
            Output::Processed,
            if has_rotations {
                &Output::ROTATIONS
            } else {
                &[]
            },
        )
    } else {
        let upright = Output::Rotation(Angle::Deg360);
        (upright, &Output::ROTATIONS[..3])
    };
    for entry in walkdir::WalkDir::new(root.join(base.prefix()))
        .into_iter()
        .filter_map(Result::ok)
        .filter(|entry| entry.file_type().is_file())
    {
        let Ok(relative) = entry.path().strip_prefix(root) else {
            continue;
        };
        let key = relative.to_string_lossy().replace('\\', "/");
        let BucketKey::Output { name, output } = BucketKey::parse(&key) else {
            continue;
        };
        let (Some(upload), true) = (upload_key_for(name).ok(), output == base) else {
            continue;
        };
        report.files += 1;
        let Some(upright) = read_file(root, &key, &mut report) else {
            continue;
        };
        check_downloaded(root, &upload, &upright, checked, &mut report);
    }
    report
}

fn check_downloaded(
    root: &Path,
    upload: &UploadKey,
    upright: &[u8],
    checked: &[Output],
    report: &mut VerifyReport,
) {
    let mut found = Vec::new();
    for output in checked {
        let key = output.key(upload);
        report.files += 1;
        if let (Some(angle), Some(bytes)) = (output.angle(), read_file(root, &key, report)) {
            found.push((angle, key, bytes));
        }
    }
    report.check_rotations(
        upright,
        found
            .iter()
            .map(|(angle, key, bytes)| (*angle, key.as_str(), bytes.as_slice())),
    );
}

impl Remote {
    /// Checks the bucket itself: every processed image's four rotations are
    /// there and exact. `name_prefix` narrows it; `jobs` images at once.
    pub async fn verify_bucket(
        &self,
        name_prefix: &str,
        jobs: usize,
    ) -> Result<VerifyReport, ClientError> {
        let mut report = VerifyReport::default();
        let mut running = JoinSet::new();
        let mut pages = Pages::processed(name_prefix);
        while let Some(objects) = pages.next(self).await? {
            for info in objects {
                let Some(name) = processed_name(&info.key) else {
                    continue;
                };
                while running.len() >= jobs.max(1) {
                    merge(&mut report, running.join_next().await)?;
                }
                let remote = self.clone();
                let name = name.to_owned();
                running.spawn(async move { remote.verify_upload(name).await });
            }
        }
        while !running.is_empty() {
            merge(&mut report, running.join_next().await)?;
        }
        Ok(report)
    }

    async fn verify_upload(self, name: String) -> Result<VerifyReport, ClientError> {
        let mut report = VerifyReport::default();
        let upload = upload_key_for(&name)?;
        let processed = Output::Processed.key(&upload);
        report.files += 1;
        let upright = match self.get(&processed, MAX_OUTPUT_BYTES).await {
            Ok(bytes) => bytes,
            Err(err) if err.kind == ErrorKind::NotFound => return Ok(report),
            Err(err) => return Err(err),
        };
        let mut found = Vec::new();
        for output in Output::ROTATIONS {
            report.files += 1;
            match self.output_bytes(&upload, output).await? {
                Some(bytes) => found.push(bytes),
                None => report.problem(
                    ProblemKind::Missing,
                    &output.key(&upload),
                    "not in the bucket",
                ),
            }
        }
        report.check_rotations(
            &upright,
            found
                .iter()
                .map(|output| (output.angle, output.key.as_str(), output.bytes.as_slice())),
        );
        Ok(report)
    }
}

fn merge(
    report: &mut VerifyReport,
    joined: Option<Result<Result<VerifyReport, ClientError>, tokio::task::JoinError>>,
) -> Result<(), ClientError> {
    let Some(joined) = joined else {
        return Ok(());
    };
    let part = joined
        .map_err(|err| ClientError::new(ErrorKind::Other, format!("a check stopped: {err}")))??;
    report.files += part.files;
    report.problems.extend(part.problems);
    Ok(())
}
