//! The bench's goals, each a row of the report's first table: the goal, what was
//! measured, and the verdict.

use anyhow::{Context as _, Result};

use crate::bench_results::{CorpusImage, Floor, Peer, PerPeer, Report, Totals, median, mib};

/// Our goals: a fraction of each peer's time across the corpus, and a memory ceiling
/// on the largest photo (a Lambda's memory size is what it costs).
const GOAL_VS_LIBVIPS: f64 = 0.6;
const GOAL_VS_PILLOW: f64 = 0.25;
/// On every image, ours over libvips's time: never slower.
const GOAL_VS_LIBVIPS_EACH: f64 = 1.0;
const GOAL_PEAK_RSS_MIB: f64 = 64.0;
const GOAL_PEAK_RSS_IMAGE: &str = "photo_6000x4000.jpg";
/// On the biggest JPEG, the whole job over libjpeg-turbo's 1/8 decode alone (the floor
/// for a baseline JPEG: every AC code must still be Huffman-decoded).
const GOAL_VS_FLOOR: f64 = 1.1;
const GOAL_FLOOR_IMAGE: &str = "photo_6000x4000.jpg";
/// On the big baseline photos, our decode over that floor (the DC-only decoder
/// steps over the AC codes libjpeg-turbo decodes).
const GOAL_DECODE_VS_FLOOR: f64 = 0.67;
const GOAL_DECODE_IMAGES: [&str; 2] = ["photo_4000x3000_exif6.jpg", "photo_6000x4000.jpg"];
/// On the small photo, the work after the decode (resize, encode, rotations), in
/// ms, and the whole job over our decode.
const GOAL_AFTER_DECODE_MS: f64 = 0.5;
const GOAL_JOB_VS_DECODE: f64 = 1.35;
const GOAL_AFTER_DECODE_IMAGE: &str = "photo_640x480.jpg";

/// One row of the goals table.
pub struct GoalRow {
    goal: String,
    measured: String,
    verdict: String,
}

impl GoalRow {
    /// The row as a line of the Markdown table.
    pub fn line(&self) -> String {
        format!("| {} | {} | {} |", self.goal, self.measured, self.verdict)
    }
}

/// Every goal's row, in the table's order.
pub fn goal_rows(report: &Report, totals: &Totals) -> Result<Vec<GoalRow>> {
    let mut rows = corpus_goal_rows(totals);
    rows.push(each_image_row(report)?);
    rows.extend(floor_goal_rows(report));
    rows.push(memory_row(report)?);
    Ok(rows)
}

/// Our time across the corpus against each peer's.
fn corpus_goal_rows(totals: &Totals) -> Vec<GoalRow> {
    [
        (
            Peer::Libvips,
            format!("{GOAL_VS_LIBVIPS:.1}x libvips's"),
            GOAL_VS_LIBVIPS,
        ),
        (
            Peer::Pillow,
            format!("{GOAL_VS_PILLOW:.2}x Pillow's"),
            GOAL_VS_PILLOW,
        ),
    ]
    .into_iter()
    .map(|(peer, bound, goal)| {
        let ratio = totals.wall_ratio(peer);
        GoalRow {
            goal: format!("time across the corpus <= {bound}"),
            measured: format!("{ratio:.2}x (CPU time: {:.2}x)", totals.cpu_ratio(peer)),
            verdict: verdict_ratio(ratio, goal, "our time"),
        }
    })
    .collect()
}

/// Never slower than libvips: the worst image decides.
fn each_image_row(report: &Report) -> Result<GoalRow> {
    let over_libvips = |r: &PerPeer| r[0].median_ms() / r[2].median_ms();
    let (worst, worst_ratio) = report
        .corpus
        .iter()
        .zip(&report.results)
        .map(|(image, r)| (image, over_libvips(r)))
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .context("an empty corpus")?;
    let slower: Vec<&str> = report
        .corpus
        .iter()
        .zip(&report.results)
        .filter(|(_, r)| r[0].median_ms() > GOAL_VS_LIBVIPS_EACH * r[2].median_ms())
        .map(|(image, _)| image.label.as_str())
        .collect();
    let verdict = if slower.is_empty() {
        format!(
            "**met** ({:.0}% faster on the closest image)",
            (1.0 - worst_ratio) * 100.0
        )
    } else {
        format!("**not met**: slower on {}", slower.join("; "))
    };
    Ok(GoalRow {
        goal: "never slower than libvips on any image".to_owned(),
        measured: format!("worst: {} at {worst_ratio:.2}x", worst.label),
        verdict,
    })
}

/// A goal against libjpeg-turbo's 1/8 decode alone (the floor) on one photo.
struct AgainstFloor {
    file: &'static str,
    /// The goal in words, given the photo's label.
    words: fn(&str) -> String,
    /// Ours over the floor, and our side's median (ms).
    ratio: fn(&Floor) -> f64,
    ours_ms: fn(&Floor) -> f64,
    goal: f64,
    /// What must drop when the goal is missed.
    what: &'static str,
}

/// The whole job on the biggest JPEG, then our decode on the big photos.
fn against_floor_goals() -> impl Iterator<Item = AgainstFloor> {
    let job = AgainstFloor {
        file: GOAL_FLOOR_IMAGE,
        words: |label| {
            format!(
                "the whole job on the {label} <= {GOAL_VS_FLOOR:.1}x libjpeg-turbo's 1/8 decode alone"
            )
        },
        ratio: Floor::job_over_floor,
        ours_ms: |floor| median(&floor.job_ms),
        goal: GOAL_VS_FLOOR,
        what: "the job",
    };
    let decodes = GOAL_DECODE_IMAGES.map(|file| AgainstFloor {
        file,
        words: |label| {
            format!(
                "our decode of the {label} <= {GOAL_DECODE_VS_FLOOR:.2}x libjpeg-turbo's 1/8 decode"
            )
        },
        ratio: Floor::decode_over_floor,
        ours_ms: |floor| median(&floor.decode_ms),
        goal: GOAL_DECODE_VS_FLOOR,
        what: "our decode",
    });
    std::iter::once(job).chain(decodes)
}

/// The floor line's goals: the whole job and our decode against libjpeg-turbo's
/// decode on the big photos, the work after the decode on the small one.
fn floor_goal_rows(report: &Report) -> Vec<GoalRow> {
    let mut rows: Vec<GoalRow> = against_floor_goals()
        .filter_map(|against| {
            let (image, floor) = report.floor_of(against.file)?;
            let ratio = (against.ratio)(floor);
            Some(GoalRow {
                goal: (against.words)(&image.label),
                measured: format!(
                    "{ratio:.2}x ({:.1} ms against {:.1} ms, in the same processes)",
                    (against.ours_ms)(floor),
                    median(&floor.floor_ms)
                ),
                verdict: verdict_ratio(ratio, against.goal, against.what),
            })
        })
        .collect();
    if let Some((image, floor)) = report.floor_of(GOAL_AFTER_DECODE_IMAGE) {
        rows.extend(after_decode_rows(image, floor));
    }
    rows
}

/// The small photo: the work after the decode, and the whole job over the decode.
fn after_decode_rows(image: &CorpusImage, floor: &Floor) -> [GoalRow; 2] {
    let after = floor.after_decode_ms();
    let ratio = floor.job_over_decode();
    [
        GoalRow {
            goal: format!(
                "the {}: work after the decode <= {GOAL_AFTER_DECODE_MS:.1} ms",
                image.label
            ),
            measured: format!(
                "{after:.2} ms (job {:.2} ms, decode {:.2} ms)",
                median(&floor.job_ms),
                median(&floor.decode_ms)
            ),
            verdict: verdict_ratio(after, GOAL_AFTER_DECODE_MS, "the work after the decode"),
        },
        GoalRow {
            goal: format!(
                "the {}: whole job <= {GOAL_JOB_VS_DECODE:.2}x our decode",
                image.label
            ),
            measured: format!("{ratio:.2}x"),
            verdict: verdict_ratio(ratio, GOAL_JOB_VS_DECODE, "the job"),
        },
    ]
}

/// Our peak RSS on the largest photo.
fn memory_row(report: &Report) -> Result<GoalRow> {
    let big = report
        .corpus
        .iter()
        .position(|image| image.file == GOAL_PEAK_RSS_IMAGE)
        .with_context(|| format!("the corpus has no {GOAL_PEAK_RSS_IMAGE}"))?;
    let peak_mib = mib(report.results[big][Peer::Ours.index()].peak_rss_kib);
    let verdict = if peak_mib <= GOAL_PEAK_RSS_MIB {
        format!("**met** ({:.1} MiB to spare)", GOAL_PEAK_RSS_MIB - peak_mib)
    } else {
        format!("**not met**: {:.1} MiB over", peak_mib - GOAL_PEAK_RSS_MIB)
    };
    Ok(GoalRow {
        goal: format!("peak RSS <= {GOAL_PEAK_RSS_MIB:.0} MiB on the 6000x4000 JPEG"),
        measured: format!("{peak_mib:.1} MiB (whole process)"),
        verdict,
    })
}

/// "met" or "not met", with how far from the goal.
/// `what` names the measured thing that must drop ("our time", "the job").
fn verdict_ratio(measured: f64, goal: f64, what: &str) -> String {
    if measured <= goal {
        format!(
            "**met** ({:.0}% under the goal)",
            (1.0 - measured / goal) * 100.0
        )
    } else {
        format!(
            "**not met**: {:.2}x the goal; {what} must drop by {:.0}% to meet it",
            measured / goal,
            (1.0 - goal / measured) * 100.0
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verdicts_say_met_or_by_how_much() {
        assert!(verdict_ratio(0.5, 0.6, "our time").starts_with("**met**"));
        let missed = verdict_ratio(1.2, 0.6, "our time");
        assert!(missed.contains("2.00x the goal"), "{missed}");
        assert!(missed.contains("drop by 50%"), "{missed}");
    }
}
