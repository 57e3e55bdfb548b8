//! `augment export`: the driver. Two walks of `processed/`, page by page: the
//! first finds the labels (their indices are sorted, as torchvision numbers its
//! classes), the second reads each upload ([`super::source`]) with at most
//! `jobs` at once but hands them, in listing order, to one writer thread, so the
//! export is the same whatever the number of jobs. Memory is flat in the number
//! of uploads: the pages, the uploads in flight, and the open files.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::io;
use std::path::Path;
use std::sync::Arc;

use augment_pipeline::contract::PROCESSED_PREFIX;
use augment_pipeline::outputs::{BucketKey, Output};

use super::imagefolder::ImageFolder;
use super::label::split_label;
use super::manifest::{ManifestRow, ManifestWriter};
use super::source::{Exported, Fetched, Plan};
use super::webdataset::WebDataset;
use super::{CLASSES_TXT, ExportEvent, ExportRequest, ExportSummary, Format};
use crate::files::{Existing, write_atomically};
use crate::{ClientError, ErrorKind, Remote};

impl Remote {
    /// Exports the request's dataset into its folder (which must be empty or
    /// new), calling `on_event` for each upload. An upload that cannot be read
    /// is reported and left out; a write that fails ends the export.
    pub async fn export(
        &self,
        request: &ExportRequest,
        mut on_event: impl FnMut(&ExportEvent),
    ) -> Result<ExportSummary, ClientError> {
        let dest = request.dest.clone();
        prepare(&dest)?;
        let classes = self.write_classes(request).await?;
        let (sender, mut receiver) = tokio::sync::mpsc::channel::<Exported>(request.jobs.max(1));
        let mut sink = Sink::new(request, classes)
            .map_err(|err| ClientError::io("Cannot write the export", &dest, err))?;
        let writer_dest = dest.clone();
        let writer = std::thread::spawn(move || -> io::Result<()> {
            while let Some(upload) = receiver.blocking_recv() {
                sink.add(&upload)?;
            }
            sink.finish(&writer_dest)
        });
        let walked = self.read_uploads(request, &sender, &mut on_event).await;
        drop(sender);
        let written = match writer.join() {
            Ok(Ok(())) => Ok(()),
            Ok(Err(err)) => Err(ClientError::io("Cannot write the export", &dest, err)),
            Err(_) => Err(ClientError::new(
                ErrorKind::Other,
                "The export's writer stopped unexpectedly.",
            )),
        };
        // A writer's failure is why the walk stopped early: it comes first.
        written.and(walked)
    }

    /// The second walk: each upload read (at most `jobs` at once) and handed
    /// to the writer in listing order.
    async fn read_uploads(
        &self,
        request: &ExportRequest,
        sender: &tokio::sync::mpsc::Sender<Exported>,
        on_event: &mut impl FnMut(&ExportEvent),
    ) -> Result<ExportSummary, ClientError> {
        let jobs = request.jobs.max(1);
        let plan = Arc::new(request.plan());
        let mut summary = ExportSummary::default();
        let mut window = VecDeque::new();
        let mut cursor: Option<String> = None;
        let prefix = format!("{PROCESSED_PREFIX}{}", request.name_prefix);
        loop {
            let page = self.page(&prefix, cursor.as_deref()).await?;
            for info in page.objects {
                let BucketKey::Output {
                    name,
                    output: Output::Processed,
                } = BucketKey::parse(&info.key)
                else {
                    continue;
                };
                if window.len() >= jobs
                    && let Some(oldest) = window.pop_front()
                    && !deliver(oldest, sender, &mut summary, on_event).await
                {
                    return Ok(summary);
                }
                let remote = self.clone();
                window.push_back(tokio::spawn(
                    remote.fetch_for_export_owned(name.to_owned(), plan.clone()),
                ));
            }
            match page.next {
                Some(next) => cursor = Some(next),
                None => break,
            }
        }
        while let Some(oldest) = window.pop_front() {
            if !deliver(oldest, sender, &mut summary, on_event).await {
                break;
            }
        }
        Ok(summary)
    }

    /// `classes.txt`, and each label's index.
    async fn write_classes(
        &self,
        request: &ExportRequest,
    ) -> Result<BTreeMap<String, usize>, ClientError> {
        let classes = self.classes(request).await?;
        let mut text = String::new();
        for label in &classes {
            text.push_str(label);
            text.push('\n');
        }
        let path = request.dest.join(CLASSES_TXT);
        write_atomically(&path, text.as_bytes(), None, Existing::Refuse)
            .map_err(|err| ClientError::io("Cannot write the export", &path, err))?;
        Ok(classes
            .into_iter()
            .enumerate()
            .map(|(index, label)| (label, index))
            .collect())
    }

    async fn fetch_for_export_owned(self, name: String, plan: Arc<Plan>) -> Fetched {
        self.fetch_for_export(name, plan).await
    }

    /// Every label of the uploads to export, sorted.
    async fn classes(&self, request: &ExportRequest) -> Result<BTreeSet<String>, ClientError> {
        let mut labels = BTreeSet::new();
        let mut cursor: Option<String> = None;
        let prefix = format!("{PROCESSED_PREFIX}{}", request.name_prefix);
        loop {
            let page = self.page(&prefix, cursor.as_deref()).await?;
            for info in page.objects {
                if let BucketKey::Output {
                    name,
                    output: Output::Processed,
                } = BucketKey::parse(&info.key)
                    && let (Some(label), _) = split_label(name, request.label_depth)
                {
                    labels.insert(label.to_owned());
                }
            }
            match page.next {
                Some(next) => cursor = Some(next),
                None => return Ok(labels),
            }
        }
    }
}

/// Waits for the oldest upload in flight and hands it to the writer; `false`
/// when the writer has stopped (its error is the export's).
async fn deliver(
    oldest: tokio::task::JoinHandle<Fetched>,
    sender: &tokio::sync::mpsc::Sender<Exported>,
    summary: &mut ExportSummary,
    on_event: &mut impl FnMut(&ExportEvent),
) -> bool {
    let fetched = oldest.await.unwrap_or_else(|err| Fetched::Failed {
        name: String::new(),
        error: ClientError::new(
            ErrorKind::Other,
            format!("reading an upload stopped: {err}"),
        ),
    });
    let event = match fetched {
        Fetched::Ready(upload) => {
            let event = ExportEvent::Exported {
                name: upload.name.clone(),
                split: upload.split.clone(),
                files: upload.outputs.len(),
            };
            if sender.send(upload).await.is_err() {
                return false;
            }
            event
        }
        Fetched::Incomplete { name, missing } => ExportEvent::Incomplete { name, missing },
        Fetched::Gone => return true,
        Fetched::Failed { name, error } => ExportEvent::Failed { name, error },
    };
    summary.count(&event);
    on_event(&event);
    true
}

/// The folder: made if missing; refused when it holds anything, so an export
/// never mixes with another.
fn prepare(dest: &Path) -> Result<(), ClientError> {
    std::fs::create_dir_all(dest)
        .map_err(|err| ClientError::io("Cannot make the export folder", dest, err))?;
    let mut entries = std::fs::read_dir(dest)
        .map_err(|err| ClientError::io("Cannot read the export folder", dest, err))?;
    if entries.next().is_some() {
        return Err(ClientError::new(
            ErrorKind::InvalidSettings,
            format!(
                "The export folder is not empty. Choose a new or empty folder: {}",
                dest.display()
            ),
        ));
    }
    Ok(())
}

/// Where the files go, by format, and the manifest beside them.
struct Sink {
    layout: Layout,
    manifest: ManifestWriter,
}

enum Layout {
    ImageFolder(ImageFolder),
    WebDataset(WebDataset),
    ManifestOnly,
}

impl Sink {
    fn new(request: &ExportRequest, classes: BTreeMap<String, usize>) -> io::Result<Self> {
        let layout = match request.format {
            Format::ImageFolder => Layout::ImageFolder(ImageFolder::new(&request.dest)),
            Format::WebDataset => {
                Layout::WebDataset(WebDataset::new(&request.dest, request.shard_bytes, classes))
            }
            Format::Manifest => Layout::ManifestOnly,
        };
        Ok(Self {
            layout,
            manifest: ManifestWriter::create(&request.dest)?,
        })
    }

    fn add(&mut self, upload: &Exported) -> io::Result<()> {
        let mut rows: Vec<ManifestRow> = upload
            .outputs
            .iter()
            .map(|output| ManifestRow {
                file: String::new(),
                split: upload.split.clone(),
                label: upload.label.clone().unwrap_or_default(),
                angle: output.angle.degrees(),
                name: upload.name.clone(),
                output_key: output.key.clone(),
                output_sha256: output.sha256.clone(),
                source_key: upload.source_key.clone().unwrap_or_default(),
                source_sha256: upload.source_sha256.clone().unwrap_or_default(),
                group: upload.group.clone(),
                pipeline_version: upload
                    .provenance
                    .pipeline_version
                    .clone()
                    .unwrap_or_default(),
                parameters: upload.provenance.parameters.clone().unwrap_or_default(),
            })
            .collect();
        match &mut self.layout {
            Layout::ImageFolder(folder) => folder.add(upload, &mut rows)?,
            Layout::WebDataset(shards) => shards.add(upload, &mut rows)?,
            Layout::ManifestOnly => {}
        }
        rows.iter().try_for_each(|row| self.manifest.add(row))
    }

    fn finish(self, dest: &Path) -> io::Result<()> {
        match self.layout {
            Layout::ImageFolder(folder) => folder.finish()?,
            Layout::WebDataset(shards) => shards.finish()?,
            Layout::ManifestOnly => {}
        }
        self.manifest.finish(dest)
    }
}
