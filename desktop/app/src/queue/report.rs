//! The transfer report: every row as CSV (file, key, state, code, message), for
//! "Copy report" and "Save report…".

use super::model::{State, Transfer};
use super::outcome::DUPLICATE;

/// The report's columns.
pub const HEADER: [&str; 5] = ["file", "key", "state", "code", "message"];

/// Every row, in queue order, quoted where CSV needs it.
pub fn csv(transfers: &[Transfer]) -> String {
    let mut writer = csv::Writer::from_writer(Vec::new());
    // Writing to memory cannot fail; a row that could not be written is left out
    // rather than the report.
    let _ = writer.write_record(HEADER);
    for transfer in transfers {
        let code = match &transfer.state {
            State::Failed { code, .. } => code.as_str(),
            State::Skipped { .. } => DUPLICATE,
            _ => "",
        };
        let message = match &transfer.state {
            State::Done => String::new(),
            state => state.describe(),
        };
        let file = transfer.path.display().to_string();
        let key = transfer.upload_key.as_deref().unwrap_or("");
        let _ = writer.write_record([
            file.as_str(),
            key,
            transfer.state.word(),
            code,
            message.as_str(),
        ]);
    }
    let bytes = writer.into_inner().unwrap_or_default();
    String::from_utf8_lossy(&bytes).into_owned()
}
