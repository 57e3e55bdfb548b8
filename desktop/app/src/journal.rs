//! The queue kept on disk, so a quit, a crash or a kill loses no file: every row
//! not finished yet, with the key chosen for it before its upload and whether
//! that upload completed. The next start resumes them: an uploaded row is
//! watched again, a row whose key was chosen is looked for under that key (a
//! copy with its bytes is its own upload, interrupted before it was noted),
//! the rest are queued again. Nothing already uploaded is uploaded again.
//!
//! The file (`queue.jsonl` in the app's state folder) is JSON lines: one line
//! per change of a row (a whole row, small) or per row that finished, appended
//! as it happens (a few hundred bytes per file, however long the queue). It is
//! rewritten whole, atomically (a temporary file renamed over it), at start and
//! whenever finished rows make up most of it. A torn last line (a kill while
//! writing) is skipped.

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::{BufRead as _, BufReader, Write as _};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};

use serde::{Deserialize, Serialize};

/// The journal's file name in the app's state folder.
pub const QUEUE_FILE: &str = "queue.jsonl";
pub use augment_pipeline::limits::MAX_JOURNAL_BYTES;
/// The file is rewritten once it holds this many lines more than twice the
/// live rows: appends stay cheap and the file stays small.
const COMPACT_SLACK_LINES: usize = 256;

/// One row as the journal keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SavedRow {
    /// The file to upload.
    pub path: PathBuf,
    /// The upload key asked for (`original-uploads/cat.jpg`).
    pub upload: String,
    /// The key chosen for it before its upload started (`…/cat-2.jpg`).
    #[serde(default)]
    pub key: Option<String>,
    /// The upload under `key` completed: only the pipeline is left.
    #[serde(default)]
    pub uploaded: bool,
}

/// A line of the file.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Line {
    /// The row's state now (added, key chosen, uploaded).
    Row { id: u64, row: SavedRow },
    /// The row finished (done, failed, skipped, cancelled): nothing to resume.
    End { id: u64 },
}

/// The rows of a journal file, in the order they were added; none when there
/// is no file. An unreadable file is set aside and logged, never fatal.
pub fn load(path: &Path) -> Vec<SavedRow> {
    match read(path) {
        Ok(rows) => rows.into_values().collect(),
        Err(why) => {
            tracing::warn!("the saved queue {} is not resumed: {why}", path.display());
            let _ = std::fs::rename(path, path.with_extension("jsonl.bad"));
            Vec::new()
        }
    }
}

fn read(path: &Path) -> Result<BTreeMap<u64, SavedRow>, String> {
    let file = match File::open(path) {
        Ok(file) => file,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(BTreeMap::new()),
        Err(err) => return Err(err.to_string()),
    };
    let bytes = file.metadata().map_err(|err| err.to_string())?.len();
    if bytes > MAX_JOURNAL_BYTES {
        return Err(format!("{bytes} bytes, over {MAX_JOURNAL_BYTES}"));
    }
    let mut rows = BTreeMap::new();
    for line in BufReader::new(file).lines() {
        let line = line.map_err(|err| err.to_string())?;
        // A line cut short by a kill: what came before it stands.
        match serde_json::from_str::<Line>(&line) {
            Ok(Line::Row { id, row }) => {
                rows.insert(id, row);
            }
            Ok(Line::End { id }) => {
                rows.remove(&id);
            }
            Err(err) => tracing::info!("skipping a line of the saved queue: {err}"),
        }
    }
    Ok(rows)
}

/// The journal of a running app: the live rows and the file they are appended to.
pub struct Journal {
    path: PathBuf,
    state: Mutex<State>,
}

struct State {
    rows: BTreeMap<u64, SavedRow>,
    file: Option<File>,
    lines: usize,
}

impl Journal {
    /// Starts a journal at `path` holding `rows` (the resumed ones, under
    /// their new ids), written whole at once.
    pub fn start(path: PathBuf, rows: BTreeMap<u64, SavedRow>) -> Self {
        let journal = Self {
            path,
            state: Mutex::new(State {
                rows,
                file: None,
                lines: 0,
            }),
        };
        journal.with_state(Self::rewrite);
        journal
    }

    /// The row's state now: added, its key chosen, its upload done.
    pub fn set(&self, id: u64, row: SavedRow) {
        self.with_state(|journal, state| {
            journal.append(
                state,
                &Line::Row {
                    id,
                    row: row.clone(),
                },
            );
            state.rows.insert(id, row);
        });
    }

    /// Changes a known row (a no-op for a row the journal does not hold).
    pub fn update(&self, id: u64, change: impl FnOnce(&mut SavedRow)) {
        let row = self.with_state(|_, state| {
            let row = state.rows.get_mut(&id)?;
            change(row);
            Some(row.clone())
        });
        if let Some(row) = row {
            self.set(id, row);
        }
    }

    /// The row finished: the next start does not resume it.
    pub fn end(&self, id: u64) {
        self.with_state(|journal, state| {
            if state.rows.remove(&id).is_none() {
                return;
            }
            journal.append(state, &Line::End { id });
            if state.lines > 2 * state.rows.len() + COMPACT_SLACK_LINES {
                journal.rewrite(state);
            }
        });
    }

    fn with_state<T>(&self, f: impl FnOnce(&Self, &mut State) -> T) -> T {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        f(self, &mut state)
    }

    fn append(&self, state: &mut State, line: &Line) {
        let Ok(mut text) = serde_json::to_string(line) else {
            return;
        };
        text.push('\n');
        if state.file.is_none() {
            state.file = OpenOptions::new()
                .create(true)
                .append(true)
                .open(&self.path)
                .map_err(|err| tracing::warn!("cannot save the queue: {err}"))
                .ok();
        }
        if let Some(file) = &mut state.file
            && let Err(err) = file.write_all(text.as_bytes())
        {
            tracing::warn!("cannot save the queue to {}: {err}", self.path.display());
        }
        state.lines += 1;
    }

    /// The live rows alone, into a temporary file renamed over the journal.
    fn rewrite(&self, state: &mut State) {
        let written = write_atomically(&self.path, &state.rows);
        if let Err(err) = written {
            tracing::warn!("cannot save the queue to {}: {err}", self.path.display());
        }
        state.file = None;
        state.lines = state.rows.len();
    }
}

fn write_atomically(path: &Path, rows: &BTreeMap<u64, SavedRow>) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let temporary = path.with_extension("jsonl.tmp");
    let mut file = File::create(&temporary)?;
    for (&id, row) in rows {
        let line = serde_json::to_string(&Line::Row {
            id,
            row: row.clone(),
        })?;
        writeln!(file, "{line}")?;
    }
    file.sync_all()?;
    std::fs::rename(&temporary, path)
}

/// `<state folder>/queue.jsonl`: beside the log, in the OS's state or local
/// data folder for the app.
pub fn default_path() -> Option<PathBuf> {
    let dirs = directories::ProjectDirs::from("", "", "augment")?;
    let dir = dirs.state_dir().unwrap_or_else(|| dirs.data_local_dir());
    Some(dir.join(QUEUE_FILE))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(name: &str) -> SavedRow {
        SavedRow {
            path: PathBuf::from(format!("/photos/{name}.jpg")),
            upload: format!("original-uploads/{name}.jpg"),
            key: None,
            uploaded: false,
        }
    }

    #[test]
    fn what_is_not_finished_is_read_back_and_a_torn_line_is_skipped() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(QUEUE_FILE);
        let journal = Journal::start(path.clone(), BTreeMap::new());
        for (id, name) in [(1, "a"), (2, "b"), (3, "c")] {
            journal.set(id, row(name));
        }
        journal.update(2, |row| {
            row.key = Some("original-uploads/b-2.jpg".to_owned());
            row.uploaded = true;
        });
        journal.end(1);
        drop(journal);
        // A kill in the middle of a line.
        let mut file = OpenOptions::new().append(true).open(&path).unwrap();
        file.write_all(b"{\"row\":{\"id\":9,\"ro").unwrap();

        let rows = load(&path);
        let mut b = row("b");
        b.key = Some("original-uploads/b-2.jpg".to_owned());
        b.uploaded = true;
        assert_eq!(rows, [b, row("c")]);
    }

    #[test]
    fn finished_rows_do_not_grow_the_file_without_bound() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(QUEUE_FILE);
        let journal = Journal::start(path.clone(), BTreeMap::new());
        for id in 0..5_000 {
            journal.set(id, row("x"));
            journal.end(id);
        }
        let lines = std::fs::read_to_string(&path).unwrap().lines().count();
        assert!(lines <= COMPACT_SLACK_LINES + 2, "{lines} lines");
        assert!(load(&path).is_empty());
    }

    #[test]
    fn lines_that_are_not_the_journals_resume_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(QUEUE_FILE);
        std::fs::write(&path, "not json\n{\"row\": 3}\n").unwrap();
        assert!(load(&path).is_empty());
        // No file: nothing to resume, and no error.
        assert!(load(&dir.path().join("missing.jsonl")).is_empty());
    }
}
