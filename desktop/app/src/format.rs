//! Numbers as people read them in the queue: sizes, rates (bytes and files),
//! time left; and where an error's advice sends a person in the app.

use std::time::Duration;

use augment_client::{ClientError, Setting, Surface};

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

/// "3.2 files/s", or per minute when fewer than one every ten seconds (a slow
/// link never reads "0.0 files/s").
pub fn format_files_rate(per_sec: f64) -> String {
    if per_sec >= 0.1 {
        format!("{per_sec:.1} files/s")
    } else {
        format!("{:.1} files/min", per_sec * 60.0)
    }
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

/// `text` as the filter compares it: lower case, and Latin letters without
/// their accents ("Café" finds "cafe" and "CAFÉ").
pub fn fold(text: &str) -> String {
    text.chars()
        .flat_map(char::to_lowercase)
        .map(base_letter)
        .collect()
}

/// A lower-case Latin letter without its accent (Latin-1 and Latin
/// Extended-A); any other character as it is.
fn base_letter(c: char) -> char {
    match c {
        'à'..='å' | 'ā' | 'ă' | 'ą' => 'a',
        'ç' | 'ć' | 'ĉ' | 'ċ' | 'č' => 'c',
        'ď' | 'đ' => 'd',
        'è'..='ë' | 'ē' | 'ĕ' | 'ė' | 'ę' | 'ě' => 'e',
        'ĝ' | 'ğ' | 'ġ' | 'ģ' => 'g',
        'ì'..='ï' | 'ĩ' | 'ī' | 'ĭ' | 'į' | 'ı' => 'i',
        'ĺ' | 'ļ' | 'ľ' | 'ł' => 'l',
        'ñ' | 'ń' | 'ņ' | 'ň' => 'n',
        'ò'..='ö' | 'ø' | 'ō' | 'ŏ' | 'ő' => 'o',
        'ŕ' | 'ř' => 'r',
        'ś' | 'ŝ' | 'ş' | 'š' => 's',
        'ţ' | 'ť' => 't',
        'ù'..='ü' | 'ũ' | 'ū' | 'ŭ' | 'ů' | 'ű' | 'ų' => 'u',
        'ý' | 'ÿ' | 'ŷ' => 'y',
        'ź' | 'ż' | 'ž' => 'z',
        other => other,
    }
}

/// Where in the app an error's words are read: anywhere in the window (its
/// settings are "in Settings"), or inside Settings (they are "above").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InApp {
    Window,
    Settings,
}

impl Surface for InApp {
    fn place(&self, _settings: &[Setting]) -> String {
        match self {
            Self::Window => " in Settings",
            Self::Settings => " above",
        }
        .to_owned()
    }
}

/// An error's words in the window.
pub fn error_words(err: &ClientError) -> String {
    err.words(&InApp::Window)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_and_times_read_naturally() {
        let read = [
            (format_rate(1536.0), "1.5 KiB/s"),
            (format_rate(0.0), "–"),
            (format_files_rate(3.21), "3.2 files/s"),
            // A slow link reads per minute, never "0.0 files/s".
            (format_files_rate(0.02), "1.2 files/min"),
            (format_eta(Duration::from_millis(300)), "1 s left"),
            (format_eta(Duration::from_secs(61)), "2 min left"),
            (format_eta(Duration::from_secs(3720)), "1 h 2 min left"),
        ];
        for (got, want) in read {
            assert_eq!(got, want);
        }
        assert_eq!(
            [percent(999, 1000), percent(1000, 1000), percent(0, 0)],
            [99, 100, 100]
        );
    }

    #[test]
    fn the_filter_ignores_case_and_accents() {
        assert_eq!(fold("Café Crème"), "cafe creme");
        assert_eq!(fold("ŁÓDŹ"), "lodz");
        assert!(fold("Zürich-Straße").contains(&fold("zurich")));
        assert_eq!(fold("東京"), "東京");
    }
}
