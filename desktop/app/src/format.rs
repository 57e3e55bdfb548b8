//! Numbers as people read them in the queue: sizes, rates, time left.

use std::time::Duration;

pub use augment_pipeline::reject::format_bytes;

/// `1.2 MiB/s`.
pub fn format_rate(bytes_per_sec: f64) -> String {
    if !bytes_per_sec.is_finite() || bytes_per_sec <= 0.0 {
        return "–".to_owned();
    }
    // Whole bytes are plenty for a rate shown next to a progress bar.
    #[expect(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        reason = "a finite positive rate, rounded to whole bytes"
    )]
    let whole = bytes_per_sec.round() as u64;
    format!("{}/s", format_bytes(whole))
}

/// `5 s left`, `2 min left`, `1 h 3 min left`.
pub fn format_eta(left: Duration) -> String {
    let secs = left.as_secs();
    if secs < 60 {
        format!("{} s left", secs.max(1))
    } else if secs < 3600 {
        format!("{} min left", secs.div_ceil(60))
    } else {
        format!("{} h {} min left", secs / 3600, (secs % 3600) / 60)
    }
}

/// Whole percent of `sent` out of `total`; 100 only when everything is sent.
pub fn percent(sent: u64, total: u64) -> u64 {
    if total == 0 {
        return 100;
    }
    let pct = sent.saturating_mul(100) / total;
    if sent < total { pct.min(99) } else { 100 }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_and_times_read_naturally() {
        assert_eq!(format_rate(1536.0), "1.5 KiB/s");
        assert_eq!(format_rate(0.0), "–");
        assert_eq!(format_eta(Duration::from_millis(300)), "1 s left");
        assert_eq!(format_eta(Duration::from_secs(61)), "2 min left");
        assert_eq!(format_eta(Duration::from_secs(3720)), "1 h 2 min left");
        assert_eq!(percent(999, 1000), 99);
        assert_eq!(percent(1000, 1000), 100);
        assert_eq!(percent(0, 0), 100);
    }
}
