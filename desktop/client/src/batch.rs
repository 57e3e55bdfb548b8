//! Runs a batch of files through the local pipeline (`augment process`): each file
//! is "uploaded" into a folder laid out like the bucket, processed, and rotated by
//! the same steps the Lambdas run, through the one local-mode driver.

use std::collections::HashMap;
use std::path::Path;

use augment_pipeline::error_chain;
use tokio::sync::mpsc;

use crate::inputs::Input;
use crate::local::Driver;
pub use crate::local::FileResult;

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
        let (ended, endings) = mpsc::unbounded_channel();
        let heard = ended.clone();
        let driver = Driver::start(out, jobs, move |key, result| {
            let _ = heard.send((key, result));
        });
        tokio::spawn(import_all(driver, inputs.to_vec(), ended));
        follow(inputs, endings, &mut finish).await;
    });
    Ok(summary)
}

/// What the driver says of each upload: its key and how it ended.
type Ending = (String, FileResult);

/// Copies the files in and announces them, in order, while results come back.
/// The files are not checked here: the processor judges them and writes
/// `failed/` records, as in AWS.
async fn import_all(driver: Driver, files: Vec<Input>, ended: mpsc::UnboundedSender<Ending>) {
    for input in files {
        let key = input.upload.as_str().to_owned();
        match driver.store().import_file(&key, &input.path).await {
            Ok(()) => driver.notify_upload(key).await,
            Err(err) => {
                let message = format!("Could not copy the file: {}", error_chain(&err));
                let _ = ended.send((key, FileResult::Failed(message)));
            }
        }
    }
}

/// Hands each input's ending to `finish` as it comes; what never ends (a
/// crashed task) ends as failed, in input order.
async fn follow(
    inputs: &[Input],
    mut endings: mpsc::UnboundedReceiver<Ending>,
    finish: &mut impl FnMut(&Input, FileResult),
) {
    let mut pending: HashMap<String, usize> = inputs
        .iter()
        .enumerate()
        .map(|(index, input)| (input.upload.as_str().to_owned(), index))
        .collect();
    while !pending.is_empty() {
        let Some((key, result)) = endings.recv().await else {
            break;
        };
        if let Some(index) = pending.remove(&key) {
            finish(&inputs[index], result);
        }
    }
    let mut lost: Vec<usize> = pending.into_values().collect();
    lost.sort_unstable();
    for index in lost {
        finish(
            &inputs[index],
            FileResult::Failed("The pipeline stopped before finishing this file.".into()),
        );
    }
}
