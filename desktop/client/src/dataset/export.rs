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

use super::imagefolder::ImageFolder;
use super::label::split_label;
use super::manifest::{ManifestRow, ManifestWriter};
use super::request::{CLASSES_TXT, ExportEvent, ExportRequest, ExportSummary, Format};
use super::resume::{self, Start};
use super::source::{Exported, Fetched, Plan};
use super::webdataset::WebDataset;
use crate::error::{ClientError, ErrorKind};
use crate::files::{Existing, write_atomically};
use crate::pages::{Pages, processed_name};
use crate::remote::Remote;

impl Remote {
    /// Exports the request's dataset into its folder (new, empty, or holding
    /// this request's interrupted export, which continues: [`super::resume`]),
    /// calling `on_event` for each upload. An upload that cannot be read is
    /// reported and left out; a write that fails ends the export. Dropping the
    /// future stops it with no manifest written: the next run continues it.
    pub async fn export(
        &self,
        request: &ExportRequest,
        mut on_event: impl FnMut(&ExportEvent),
    ) -> Result<ExportSummary, ClientError> {
        let dest = request.dest.clone();
        let busy = resume::Busy::claim(&dest).await?;
        let start = resume::prepare(request)?;
        let (classes, uploads) = self.write_classes(request).await?;
        on_event(&ExportEvent::Listed { uploads });
        let (sender, mut receiver) = tokio::sync::mpsc::channel::<ToWriter>(request.jobs.max(1));
        let sink = Sink::new(request, classes, start == Start::Resumed)
            .map_err(|err| ClientError::io("Cannot write the export", &dest, err))?;
        let writer_dest = dest.clone();
        let writer = std::thread::spawn(move || -> io::Result<Option<u64>> {
            // The folder is this export's until its writer is done, even when
            // the export was stopped (its future dropped) mid-way: `sink`, a
            // local declared after `_busy`, drops first, so its temporary
            // files are gone before the folder is free.
            let _busy = busy;
            let mut sink = sink;
            while let Some(message) = receiver.blocking_recv() {
                match message {
                    ToWriter::Upload(upload) => sink.add(&upload)?,
                    ToWriter::End => return sink.finish(&writer_dest).map(Some),
                }
            }
            // Stopped before the end: the temporary files go, the marker stays.
            Ok(None)
        });
        let walked = self.read_uploads(request, &sender, &mut on_event).await;
        if walked.is_ok() {
            // A writer that already stopped has its own error, joined below.
            let _ = sender.send(ToWriter::End).await;
        }
        drop(sender);
        let kept = match writer.join() {
            Ok(Ok(kept)) => Ok(kept),
            Ok(Err(err)) => Err(ClientError::io("Cannot write the export", &dest, err)),
            Err(_) => Err(ClientError::new(
                ErrorKind::Other,
                "The export's writer stopped unexpectedly.",
            )),
        };
        // A writer's failure is why the walk stopped early: it comes first.
        let (kept, mut summary) = (kept?, walked?);
        let Some(kept) = kept else {
            return Err(ClientError::new(
                ErrorKind::Other,
                "The export's writer stopped before the end.",
            ));
        };
        resume::finished(&dest)?;
        summary.kept = kept;
        summary.resumed = start == Start::Resumed;
        Ok(summary)
    }

    /// The second walk: each upload read (at most `jobs` at once) and handed
    /// to the writer in listing order.
    async fn read_uploads(
        &self,
        request: &ExportRequest,
        sender: &tokio::sync::mpsc::Sender<ToWriter>,
        on_event: &mut impl FnMut(&ExportEvent),
    ) -> Result<ExportSummary, ClientError> {
        let jobs = request.jobs.max(1);
        let plan = Arc::new(request.plan());
        let mut summary = ExportSummary::default();
        let mut window = VecDeque::new();
        let mut pages = Pages::processed(&request.name_prefix);
        while let Some(objects) = pages.next(self).await? {
            for info in objects {
                let Some(name) = request.takes(&info.key) else {
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
        }
        while let Some(oldest) = window.pop_front() {
            if !deliver(oldest, sender, &mut summary, on_event).await {
                break;
            }
        }
        Ok(summary)
    }

    /// `classes.txt`, and each label's index; how many uploads there are.
    async fn write_classes(
        &self,
        request: &ExportRequest,
    ) -> Result<(BTreeMap<String, usize>, u64), ClientError> {
        let (classes, uploads) = self.classes(request).await?;
        let mut text = String::new();
        for label in &classes {
            text.push_str(label);
            text.push('\n');
        }
        let path = request.dest.join(CLASSES_TXT);
        write_atomically(&path, text.as_bytes(), None, Existing::Replace)
            .map_err(|err| ClientError::io("Cannot write the export", &path, err))?;
        let indices = classes
            .into_iter()
            .enumerate()
            .map(|(index, label)| (label, index))
            .collect();
        Ok((indices, uploads))
    }

    async fn fetch_for_export_owned(self, name: String, plan: Arc<Plan>) -> Fetched {
        self.fetch_for_export(name, plan).await
    }

    /// Every label of the uploads to export, sorted, and how many uploads.
    async fn classes(
        &self,
        request: &ExportRequest,
    ) -> Result<(BTreeSet<String>, u64), ClientError> {
        let mut labels = BTreeSet::new();
        let mut uploads = 0;
        let mut pages = Pages::processed(&request.name_prefix);
        while let Some(objects) = pages.next(self).await? {
            for info in objects {
                let Some(name) = request.takes(&info.key) else {
                    continue;
                };
                uploads += 1;
                if let (Some(label), _) = split_label(name, request.label_depth) {
                    labels.insert(label.to_owned());
                }
            }
        }
        Ok((labels, uploads))
    }
}

impl ExportRequest {
    /// The `<name>` of a listed key this export takes: a processed image's,
    /// through the name filter.
    fn takes<'k>(&self, key: &'k str) -> Option<&'k str> {
        processed_name(key).filter(|name| self.name_filter.matches(name))
    }
}

/// What the walk hands the writer: an upload, then the end (only a walk that
/// reached it sends `End`; without it the writer leaves no manifest).
enum ToWriter {
    Upload(Box<Exported>),
    End,
}

/// Waits for the oldest upload in flight and hands it to the writer; `false`
/// when the writer has stopped (its error is the export's).
async fn deliver(
    oldest: tokio::task::JoinHandle<Fetched>,
    sender: &tokio::sync::mpsc::Sender<ToWriter>,
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
                label: upload.label.clone(),
                files: upload.outputs.len(),
            };
            if sender
                .send(ToWriter::Upload(Box::new(upload)))
                .await
                .is_err()
            {
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
    fn new(
        request: &ExportRequest,
        classes: BTreeMap<String, usize>,
        resumed: bool,
    ) -> io::Result<Self> {
        let layout = match request.format {
            Format::ImageFolder => Layout::ImageFolder(ImageFolder::new(
                &request.dest,
                request.label_depth > 0,
                resumed,
            )),
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

    /// Closes the layout's files and writes the manifest, last; the image
    /// files an interrupted run had written and this one kept.
    fn finish(self, dest: &Path) -> io::Result<u64> {
        let kept = match self.layout {
            Layout::ImageFolder(folder) => folder.finish()?,
            Layout::WebDataset(shards) => {
                shards.finish()?;
                0
            }
            Layout::ManifestOnly => 0,
        };
        self.manifest.finish(dest)?;
        Ok(kept)
    }
}
