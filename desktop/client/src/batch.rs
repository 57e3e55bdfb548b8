//! Runs a batch of files through the local pipeline (local mode): each file is
//! "uploaded" into a folder laid out like the bucket, processed, and rotated by
//! the same steps the Lambdas run.

use augment_pipeline::error_chain;
use std::collections::HashMap;
use std::path::Path;

use augment_local::{LocalPipeline, PipelineEvent};
use augment_pipeline::Rejection;
use augment_pipeline::steps::UploadOutcome;
use tokio::sync::mpsc;

use crate::inputs::Input;

/// How one file ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileResult {
    /// Processed and all four rotations written.
    Done,
    /// Bad input: `failed/<name>.json` says why.
    Rejected(Rejection),
    /// Not the file's fault (disk full, permissions…): the message says what.
    Failed(String),
}

/// Totals of a batch.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Summary {
    pub done: usize,
    pub rejected: usize,
    pub failed: usize,
}

impl Summary {
    pub fn all_done(&self) -> bool {
        self.rejected == 0 && self.failed == 0
    }
}

struct Pending {
    index: usize,
    rotations_left: usize,
    rotation_error: Option<String>,
}

/// Processes `inputs` into `out` with at most `jobs` steps at once, calling
/// `on_result` once per input as it finishes (in completion order). The outputs
/// do not depend on `jobs`: every output is a pure function of its input.
pub fn run(
    inputs: &[Input],
    out: &Path,
    jobs: usize,
    mut on_result: impl FnMut(&Input, &FileResult),
) -> std::io::Result<Summary> {
    let jobs = jobs.max(1);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(jobs)
        .enable_all()
        .build()?;
    let mut summary = Summary::default();
    let mut finish = |input: &Input, result: FileResult| {
        match &result {
            FileResult::Done => summary.done += 1,
            FileResult::Rejected(_) => summary.rejected += 1,
            FileResult::Failed(_) => summary.failed += 1,
        }
        on_result(input, &result);
    };

    runtime.block_on(async {
        let (pipeline, mut events) = LocalPipeline::start(out, jobs);
        let mut pending: HashMap<String, Pending> = inputs
            .iter()
            .enumerate()
            .map(|(index, input)| {
                let pending = Pending { index, rotations_left: 4, rotation_error: None };
                (input.upload.as_str().to_owned(), pending)
            })
            .collect();

        // Uploads are imported and announced in order, while results come back.
        let (import_failures, mut import_failed) = mpsc::unbounded_channel();
        let feeder_inputs = inputs.to_vec();
        let feeder_pipeline = pipeline.clone();
        tokio::spawn(async move {
            for input in feeder_inputs {
                let key = input.upload.as_str().to_owned();
                match feeder_pipeline.store().import_file(&key, &input.path).await {
                    Ok(()) => feeder_pipeline.notify_upload(key).await,
                    Err(err) => {
                        let _ = import_failures.send((key, error_chain(&err)));
                    }
                }
            }
        });
        drop(pipeline);

        while !pending.is_empty() {
            let (key, result) = tokio::select! {
                Some((key, message)) = import_failed.recv() => {
                    (key, Some(FileResult::Failed(format!("could not copy the file: {message}"))))
                }
                Some(event) = events.recv() => match event {
                    PipelineEvent::Upload { key, result } => {
                        let ended = match result {
                            Ok(UploadOutcome::Processed { .. }) => None,
                            Ok(UploadOutcome::Rejected { rejection, .. }) => Some(FileResult::Rejected(rejection)),
                            Ok(UploadOutcome::Skipped { reason, .. }) => {
                                Some(FileResult::Failed(format!("the upload was skipped ({reason:?})")))
                            }
                            Err(err) => Some(FileResult::Failed(error_chain(&err))),
                        };
                        (key, ended)
                    }
                    PipelineEvent::Rotation { task, result } => {
                        let Some(state) = pending.get_mut(&task.source_key) else { continue };
                        state.rotations_left -= 1;
                        if let Err(err) = result {
                            state.rotation_error.get_or_insert_with(|| format!("{}° rotation: {}", task.angle, error_chain(&err)));
                        }
                        let ended = (state.rotations_left == 0).then(|| match state.rotation_error.take() {
                            None => FileResult::Done,
                            Some(message) => FileResult::Failed(message),
                        });
                        (task.source_key, ended)
                    }
                },
                else => break,
            };
            if let Some(result) = result
                && let Some(state) = pending.remove(&key)
            {
                finish(&inputs[state.index], result);
            }
        }
        // Whatever is still pending was lost with a crashed task.
        let mut lost: Vec<Pending> = pending.into_values().collect();
        lost.sort_by_key(|p| p.index);
        for state in lost {
            finish(&inputs[state.index], FileResult::Failed("the pipeline stopped before finishing this file".into()));
        }
    });
    Ok(summary)
}
