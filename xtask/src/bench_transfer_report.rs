//! The transfer bench's section of docs/BENCHMARKS.md: the table of rows and
//! the verdicts against the goals (ratios of times within one round trip).

use std::fmt::Write as _;
use std::path::Path;

use anyhow::Result;

use crate::bench_peers::{
    APP_UPLOAD, BEFORE_UPLOAD, OURS_DOWNLOAD, OURS_DOWNLOAD_AGAIN, OURS_UPLOAD, RCLONE_16, Way,
};

/// One measured run.
#[derive(Debug, Clone)]
pub struct Row {
    pub batch: String,
    pub way: Way,
    pub round_trip_ms: u64,
    pub tool: String,
    pub files: usize,
    pub seconds: f64,
    pub requests: u64,
    pub peak_rss_kib: u64,
}

/// Where the section starts and ends in docs/BENCHMARKS.md.
const BEGIN: &str = "<!-- transfer bench: begin -->";
const END: &str = "<!-- transfer bench: end -->";

pub fn render(rows: &[Row]) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{BEGIN}\n## Transfers: uploads and downloads through a round trip\n"
    );
    let _ = writeln!(
        out,
        "`cargo xtask bench --transfer` (release builds): a TCP proxy on loopback holds each chunk half the round trip each way, in front of moto 5.2.5. Uploads: every tool sends the batch (distinct JPEGs) into a fresh bucket, interleaved. Downloads: every tool fetches the originals `augment upload` put in its bucket (the same files, under `original-uploads/`) into a fresh empty folder; the second runs fetch into the folder their first run filled (nothing new). Requests counted at the proxy, peak RSS by `/usr/bin/time`. `app client` is the desktop app's way through the client library (`desktop/client/examples/app_batch.rs`: its checks, duplicate look, name and upload per file, adaptive concurrency; without the thumbnail decode and the watch). The machine is shared (2 cores, other builds running): wall times vary from run to run, so compare ratios within one round trip.\n"
    );
    let _ = writeln!(
        out,
        "| batch | round trip | way | tool | time | files/s | requests/file | peak RSS |\n|---|---|---|---|---|---|---|---|"
    );
    for row in rows {
        let _ = writeln!(
            out,
            "| {} × {} | {} ms | {} | {} | {:.1} s | {:.0} | {:.2} | {:.0} MiB |",
            row.files,
            row.batch,
            row.round_trip_ms,
            row.way.name(),
            row.tool,
            row.seconds,
            row.files as f64 / row.seconds,
            row.requests as f64 / row.files as f64,
            row.peak_rss_kib as f64 / 1024.0
        );
    }
    let _ = writeln!(out, "\n{}", verdicts(rows));
    let _ = writeln!(out, "{END}");
    out
}

/// A goal on the ratio of two rows' times: ours over the peer's, at most 1.0.
struct Ratio {
    way: Way,
    round_trip_ms: u64,
    ours: &'static str,
    peer: &'static str,
    what: &'static str,
}

const RATIOS: [Ratio; 4] = [
    Ratio {
        way: Way::Upload,
        round_trip_ms: 50,
        ours: OURS_UPLOAD,
        peer: RCLONE_16,
        what: "Uploads at 50 ms, ours on its defaults vs `rclone copy --transfers 16`",
    },
    Ratio {
        way: Way::Upload,
        round_trip_ms: 50,
        ours: APP_UPLOAD,
        peer: RCLONE_16,
        what: "Uploads at 50 ms, the app's client on its defaults vs `rclone copy --transfers 16`",
    },
    Ratio {
        way: Way::Download,
        round_trip_ms: 50,
        ours: OURS_DOWNLOAD,
        peer: RCLONE_16,
        what: "Downloads at 50 ms, ours on its defaults vs `rclone copy --transfers 16`",
    },
    Ratio {
        way: Way::Upload,
        round_trip_ms: 0,
        ours: OURS_UPLOAD,
        peer: BEFORE_UPLOAD,
        what: "Uploads at 0 ms, ours vs the build before this work (main bc3631f, its defaults)",
    },
];

fn verdicts(rows: &[Row]) -> String {
    let find = |batch: &str, way: Way, ms: u64, tool: &str| {
        rows.iter()
            .find(|r| r.batch == batch && r.way == way && r.round_trip_ms == ms && r.tool == tool)
    };
    let mut out = String::from("Verdicts:\n");
    for ratio in &RATIOS {
        let mut each = Vec::new();
        for batch in batches(rows) {
            let (Some(ours), Some(peer)) = (
                find(batch, ratio.way, ratio.round_trip_ms, ratio.ours),
                find(batch, ratio.way, ratio.round_trip_ms, ratio.peer),
            ) else {
                continue;
            };
            each.push((batch, ours.seconds / peer.seconds));
        }
        if each.is_empty() {
            continue;
        }
        let met = each.iter().all(|(_, ratio)| *ratio <= 1.0);
        let figures: Vec<String> = each
            .iter()
            .map(|(batch, ratio)| format!("{ratio:.2} ({batch})"))
            .collect();
        let verdict = if met { "met" } else { "not met" };
        let _ = writeln!(
            out,
            "- {} (goal ≤ 1.0): {}, {verdict}.",
            ratio.what,
            figures.join(", ")
        );
    }
    let per_file = |tool: &str| {
        rows.iter()
            .filter(|r| r.tool == tool)
            .map(|r| r.requests as f64 / r.files as f64)
            .fold(0.0, f64::max)
    };
    let worst = per_file(OURS_UPLOAD);
    let verdict = if worst <= 1.1 { "met" } else { "not met" };
    let _ = writeln!(
        out,
        "- Requests per new upload, ours, worst row (goal ≤ 1.1; includes the connection check and the listing pages): {worst:.2}, {verdict}."
    );
    let _ = writeln!(
        out,
        "- Requests per file, worst row: a first download {:.2} (one `GetObject` each, the listing pages and the connection check), a second one with nothing new {:.3} (the check and the listing alone); the app's client uploading {:.2}.",
        per_file(OURS_DOWNLOAD),
        per_file(OURS_DOWNLOAD_AGAIN),
        per_file(APP_UPLOAD)
    );
    out
}

/// Replaces the section between the markers in `doc`, or appends it.
pub fn write_section(doc: &Path, section: &str) -> Result<()> {
    let old = std::fs::read_to_string(doc).unwrap_or_default();
    let new = match (old.find(BEGIN), old.find(END)) {
        (Some(begin), Some(end)) if begin < end => {
            format!(
                "{}{}{}",
                &old[..begin],
                section.trim_end(),
                &old[end + END.len()..]
            )
        }
        _ => format!("{}\n\n{section}", old.trim_end()),
    };
    std::fs::write(doc, new)?;
    Ok(())
}

/// The batches the rows ran, in the order they first ran.
fn batches(rows: &[Row]) -> Vec<&str> {
    let mut seen: Vec<&str> = Vec::new();
    for row in rows {
        if !seen.contains(&row.batch.as_str()) {
            seen.push(&row.batch);
        }
    }
    seen
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_verdict_compares_rows_of_one_round_trip_and_way() {
        let row = |way, round_trip_ms, tool: &str, seconds| Row {
            batch: "photos".to_owned(),
            way,
            round_trip_ms,
            tool: tool.to_owned(),
            files: 100,
            seconds,
            requests: 101,
            peak_rss_kib: 1024,
        };
        let rows = [
            row(Way::Upload, 50, OURS_UPLOAD, 1.0),
            row(Way::Upload, 50, RCLONE_16, 2.0),
            row(Way::Download, 50, OURS_DOWNLOAD, 3.0),
            row(Way::Download, 50, RCLONE_16, 2.0),
            row(Way::Download, 0, RCLONE_16, 9.0),
        ];
        let text = verdicts(&rows);
        assert!(text.contains("Uploads at 50 ms, ours on its defaults vs `rclone copy --transfers 16` (goal ≤ 1.0): 0.50 (photos), met."), "{text}");
        assert!(text.contains("Downloads at 50 ms, ours on its defaults vs `rclone copy --transfers 16` (goal ≤ 1.0): 1.50 (photos), not met."), "{text}");
        assert!(
            !text.contains("before this work"),
            "no row, no verdict: {text}"
        );
    }

    #[test]
    fn the_section_is_replaced_in_place() {
        let dir = tempfile::tempdir().unwrap();
        let doc = dir.path().join("B.md");
        std::fs::write(&doc, "# Bench\n\nimages\n").unwrap();
        write_section(&doc, &format!("{BEGIN}\none\n{END}\n")).unwrap();
        write_section(&doc, &format!("{BEGIN}\ntwo\n{END}\n")).unwrap();
        let text = std::fs::read_to_string(&doc).unwrap();
        assert_eq!(text, format!("# Bench\n\nimages\n\n{BEGIN}\ntwo\n{END}\n"));
    }
}
