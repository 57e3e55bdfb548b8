//! How a part of a key (between two `/`) is named as a file or folder, the same on
//! Linux, macOS and Windows: the folder store, "Save to folder…" and `--out` all
//! name files by [`escape`], and a folder's listing turns names back into keys by
//! [`unescape`]. Here beside the contract because [`crate::contract::KeyRules::FOLDER`]
//! measures a name as the folder holds it.
//!
//! Reversible percent-escapes (`%` and two upper-case hex digits), only where a
//! folder on some OS cannot hold the name as it is:
//! - `"` `*` `:` `<` `>` `?` `\` `|` and control characters (U+0000–U+001F,
//!   U+007F): Windows refuses them, and `:` is a stream on NTFS;
//! - a trailing `.` or space: Windows drops it, so `trip.` and `trip` alias;
//! - the first character of a Windows device name (`CON`, `PRN`, `AUX`, `NUL`,
//!   `COM0`–`COM9`, `COM¹`–`COM³`, `LPT0`–`LPT9`, `LPT¹`–`LPT³`, `CONIN$`,
//!   `CONOUT$`), in any case, with any extension and trailing spaces or dots
//!   (`nul .png`): such a file is the device on Windows;
//! - the leading `.` of a name starting with [`STORE_FILE_PREFIX`] (the store's
//!   own temporary and metadata files);
//! - `%` itself, when two hex digits follow it (else it stays: `100%.jpg`).
//!
//! So `10:30.jpg` is the file `10%3A30.jpg`, and lists back as `10:30.jpg`.

use std::borrow::Cow;

/// The folder store's own files (temporary writes, metadata) start with this; a
/// key's part that does is escaped, so no key can name one.
pub const STORE_FILE_PREFIX: &str = ".augment-";

/// Windows device names, compared case-insensitively with a name's part before
/// its first dot (trailing spaces and dots dropped).
const DEVICE_NAMES: &[&str] = &[
    "CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$", "COM0", "COM1", "COM2", "COM3", "COM4",
    "COM5", "COM6", "COM7", "COM8", "COM9", "COM¹", "COM²", "COM³", "LPT0", "LPT1", "LPT2", "LPT3",
    "LPT4", "LPT5", "LPT6", "LPT7", "LPT8", "LPT9", "LPT¹", "LPT²", "LPT³",
];

/// Characters no name may hold as they are on some OS.
fn always_escaped(c: char) -> bool {
    matches!(c, '"' | '*' | ':' | '<' | '>' | '?' | '\\' | '|') || c.is_ascii_control()
}

/// Whether `name` is a Windows device name (with or without an extension).
pub fn is_device_name(name: &str) -> bool {
    let stem = name.split('.').next().unwrap_or(name).trim_end_matches(' ');
    DEVICE_NAMES
        .iter()
        .any(|device| stem.eq_ignore_ascii_case(device))
}

fn starts_hex_pair(rest: &str) -> bool {
    let bytes = rest.as_bytes();
    bytes.len() >= 2 && bytes[0].is_ascii_hexdigit() && bytes[1].is_ascii_hexdigit()
}

fn push_escaped(out: &mut String, c: char) {
    let mut buf = [0; 4];
    for byte in c.encode_utf8(&mut buf).bytes() {
        out.push_str(&format!("%{byte:02X}"));
    }
}

/// The file or folder name that holds a key's part `part` (a non-empty part
/// other than `.` and `..`, which no key may have in a folder). Borrowed when
/// nothing needs escaping, as for nearly every name.
pub fn escape(part: &str) -> Cow<'_, str> {
    let device = is_device_name(part);
    let store_file = part.starts_with(STORE_FILE_PREFIX);
    let last = part.char_indices().next_back().map_or(0, |(at, _)| at);
    let needs = |at: usize, c: char| {
        always_escaped(c)
            || (at == 0 && (device || store_file))
            || (at == last && matches!(c, '.' | ' '))
            || (c == '%' && starts_hex_pair(&part[at + 1..]))
    };
    if !part.char_indices().any(|(at, c)| needs(at, c)) {
        return Cow::Borrowed(part);
    }
    let mut out = String::with_capacity(part.len() + 8);
    for (at, c) in part.char_indices() {
        if needs(at, c) {
            push_escaped(&mut out, c);
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// Bytes of the name [`escape`] gives `part`.
pub fn escaped_len(part: &str) -> usize {
    escape(part).len()
}

/// The key's part a file or folder name holds: the inverse of [`escape`]. `None`
/// for a name `escape` never makes (someone else's file, such as `a%41.jpg` or
/// `CON`), which is then no key's: listing skips it.
pub fn unescape(name: &str) -> Option<String> {
    if !name.contains('%') {
        return (escape(name) == name && name != "." && name != "..").then(|| name.to_owned());
    }
    let mut bytes = Vec::with_capacity(name.len());
    let raw = name.as_bytes();
    let mut at = 0;
    while at < raw.len() {
        if raw[at] == b'%' && starts_hex_pair(&name[at + 1..]) {
            let hex = std::str::from_utf8(&raw[at + 1..at + 3]).ok()?;
            bytes.push(u8::from_str_radix(hex, 16).ok()?);
            at += 3;
        } else {
            bytes.push(raw[at]);
            at += 1;
        }
    }
    let part = String::from_utf8(bytes).ok()?;
    let canonical = !part.is_empty() && part != "." && part != ".." && !part.contains('/');
    (canonical && escape(&part) == name).then_some(part)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_a_folder_cannot_hold_are_escaped_and_come_back() {
        for (part, file) in [
            ("10:30.jpg", "10%3A30.jpg"),
            ("a\\b.jpg", "a%5Cb.jpg"),
            ("CON.jpg", "%43ON.jpg"),
            ("nul .png", "%6Eul .png"),
            ("com¹.jpg", "%63om¹.jpg"),
            ("LPT³", "%4CPT³"),
            ("conin$.png", "%63onin$.png"),
            ("CONOUT$.JPG", "%43ONOUT$.JPG"),
            ("Con..jpg", "%43on..jpg"),
            ("trip.", "trip%2E"),
            ("trip ", "trip%20"),
            ("what?*<>|\".jpg", "what%3F%2A%3C%3E%7C%22.jpg"),
            ("tab\there.jpg", "tab%09here.jpg"),
            ("50%25off.jpg", "50%2525off.jpg"),
            (".augment-meta-x.jpg", "%2Eaugment-meta-x.jpg"),
            ("%", "%"),
        ] {
            assert_eq!(escape(part), file, "{part}");
            assert_eq!(unescape(file).as_deref(), Some(part), "{file}");
            assert_eq!(escaped_len(part), file.len());
        }
    }

    #[test]
    fn ordinary_names_stay_as_they_are() {
        for part in [
            "beach day.JPG",
            "100%.jpg",
            "console.jpg",
            "CONx.jpg",
            "COM10.jpg",
            ".hidden.jpg",
            "☀ ü 日本.png",
            "a.b.c.jpg",
        ] {
            assert!(matches!(escape(part), Cow::Borrowed(_)), "{part}");
            assert_eq!(unescape(part).as_deref(), Some(part));
        }
    }

    #[test]
    fn names_escape_never_makes_are_no_key() {
        for name in [
            "a%41.jpg", "a%3a.jpg", "CON", "nul.jpg", "x.", "x ", "a:b", "%2E", "%2E%2E", "a%2Fb",
            "%FF.jpg",
        ] {
            assert_eq!(unescape(name), None, "{name}");
        }
    }

    #[test]
    fn escaping_round_trips_on_awkward_parts() {
        let pieces = [
            "%", "4", "1", ":", ".", " ", "C", "ON", "é", "\u{FFFE}", "a",
        ];
        // Every part of up to four pieces.
        let mut parts = vec![String::new()];
        for _ in 0..4 {
            let longer: Vec<String> = parts
                .iter()
                .flat_map(|p| pieces.iter().map(move |piece| format!("{p}{piece}")))
                .collect();
            parts.extend(longer);
        }
        for part in parts
            .iter()
            .filter(|p| !p.is_empty() && *p != "." && *p != "..")
        {
            let file = escape(part);
            assert_eq!(
                unescape(&file).as_deref(),
                Some(part.as_str()),
                "{part} → {file}"
            );
            assert!(
                !file.ends_with(['.', ' ']) && !file.contains(':') && !is_device_name(&file),
                "{part} → {file}"
            );
        }
    }
}
