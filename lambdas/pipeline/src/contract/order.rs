//! Where an upload event stands among the events that write the same outputs.

use std::fmt;

use crate::limits::MAX_SEQUENCER_CHARS;

/// User metadata on every output: the key of the upload it came from.
pub const SOURCE_KEY_METADATA: &str = "source-key";
/// User metadata on `processed/`, rotation and `failed/` objects: the S3 event
/// sequencer of the upload they were made from.
pub const SEQUENCER_METADATA: &str = "source-sequencer";
/// An S3 event's `sequencer`: hex digits that order the events of one key (a later
/// write of the key has a greater one). Compared as S3 documents it: the shorter is
/// left-padded with zeros to the other's length, then compared as strings; so
/// `0055` = `55` < `0100`. Only events of the same key are comparable.
#[derive(Debug, Clone)]
pub struct Sequencer(String);

impl Sequencer {
    /// `None` unless `raw` is 1 to [`MAX_SEQUENCER_CHARS`] hex digits (either case).
    pub fn parse(raw: &str) -> Option<Self> {
        let ok = !raw.is_empty()
            && raw.len() <= MAX_SEQUENCER_CHARS
            && raw.bytes().all(|b| b.is_ascii_hexdigit());
        ok.then(|| Self(raw.to_ascii_uppercase()))
    }

    /// As written into metadata (upper case, as S3 writes it).
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Without leading zeros: equal-length padding then compares as length, then text.
    fn significant(&self) -> &str {
        self.0.trim_start_matches('0')
    }

    /// The sequencer an output's metadata records, if any.
    pub fn recorded_in(metadata: &[(String, String)]) -> Option<Self> {
        metadata
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(SEQUENCER_METADATA))
            .and_then(|(_, value)| Self::parse(value))
    }
}

impl Ord for Sequencer {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        let (a, b) = (self.significant(), other.significant());
        a.len().cmp(&b.len()).then_with(|| a.cmp(b))
    }
}

impl PartialOrd for Sequencer {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Sequencer {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other).is_eq()
    }
}

impl Eq for Sequencer {}

impl fmt::Display for Sequencer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// User metadata beside [`SEQUENCER_METADATA`]: the S3 event time of the upload
/// ([`EventTime`]), which orders uploads of different keys that share outputs.
pub const EVENT_TIME_METADATA: &str = "source-event-time";

/// An S3 event's `eventTime` in the one form S3 writes it,
/// `YYYY-MM-DDTHH:MM:SS.mmmZ` (UTC, milliseconds): fixed width, so the text's order
/// is the time's order.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct EventTime(String);

impl EventTime {
    /// `None` unless `raw` has exactly that form.
    pub fn parse(raw: &str) -> Option<Self> {
        const SHAPE: &[u8; 24] = b"0000-00-00T00:00:00.000Z";
        let ok = raw.len() == SHAPE.len()
            && raw.bytes().zip(SHAPE).all(|(byte, &shape)| match shape {
                b'0' => byte.is_ascii_digit(),
                _ => byte == shape,
            });
        ok.then(|| Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Where an upload event stands among all the events that write the same outputs
/// (`cat.jpg`, `cat.png` and `cat.JPEG` share `processed/cat…` and
/// `failed/cat.json`). S3 orders the events of one key by their sequencer and
/// nothing orders the events of different keys, so: events of one key compare by
/// [`Sequencer`]; events of different keys by [`EventTime`], then by key (a tie of
/// milliseconds is decided alike by every processor). Where either side lacks
/// what its comparison needs (local mode, outputs of earlier processors), neither
/// is older: the step writes, as it did before order was kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadOrder {
    /// The upload key of the event (metadata `source-key`).
    pub key: String,
    pub sequencer: Option<Sequencer>,
    pub time: Option<EventTime>,
}

impl UploadOrder {
    /// The order an output records (source key, sequencer, event time), if it
    /// names its source key.
    pub fn recorded_in(metadata: &[(String, String)]) -> Option<Self> {
        let value = |name: &str| {
            metadata
                .iter()
                .find(|(key, _)| key.eq_ignore_ascii_case(name))
                .map(|(_, value)| value.as_str())
        };
        Some(Self {
            key: value(SOURCE_KEY_METADATA)?.to_owned(),
            sequencer: value(SEQUENCER_METADATA).and_then(Sequencer::parse),
            time: value(EVENT_TIME_METADATA).and_then(EventTime::parse),
        })
    }

    /// Whether this event is older than the one `recorded` came from, so that
    /// writing would put older results over newer ones.
    pub fn is_older_than(&self, recorded: &Self) -> bool {
        if self.key == recorded.key {
            return matches!((&self.sequencer, &recorded.sequencer), (Some(ours), Some(theirs)) if ours < theirs);
        }
        match (&self.time, &recorded.time) {
            (Some(ours), Some(theirs)) => (ours, &self.key) < (theirs, &recorded.key),
            _ => false,
        }
    }
}
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sequencers_compare_after_padding_to_equal_length() {
        let seq = |s: &str| Sequencer::parse(s).unwrap();
        assert!(seq("0055AED6DCD90281E5") < seq("0055AED6DCD90281E6"));
        assert!(seq("0055AED6DCD90281E5") < seq("0100000000000000000"));
        assert!(
            seq("0055AED6DCD90281E5") > seq("0100000000000000"),
            "as 00010000… < 0055…"
        );
        assert!(seq("FF") < seq("0100"), "as 00FF < 0100");
        assert_eq!(seq("0055"), seq("55"));
        assert_eq!(seq("00ab"), seq("00AB"));
        assert!(seq("1") > seq("0"));
        for bad in [
            "",
            "12G4",
            "0x12",
            " 12",
            &"1".repeat(MAX_SEQUENCER_CHARS + 1),
        ] {
            assert!(Sequencer::parse(bad).is_none(), "{bad:?}");
        }
        let recorded = vec![("Source-Sequencer".to_owned(), "00a1".to_owned())];
        assert_eq!(Sequencer::recorded_in(&recorded), Some(seq("A1")));
        assert_eq!(Sequencer::recorded_in(&[]), None);
    }

    #[test]
    fn event_times_are_s3s_one_form_and_order_as_text() {
        let time = |s: &str| EventTime::parse(s).unwrap();
        assert!(time("2026-11-28T12:00:00.000Z") < time("2026-11-28T12:00:00.001Z"));
        assert!(time("2026-11-28T23:59:59.999Z") < time("2026-11-29T00:00:00.000Z"));
        for bad in [
            "",
            "2026-11-28T12:00:00Z",
            "2026-11-28T12:00:00.000+00:00",
            "2026-11-28 12:00:00.000Z",
            "2026-11-28T12:00:00.0000Z",
            "2026-1a-28T12:00:00.000Z",
        ] {
            assert!(EventTime::parse(bad).is_none(), "{bad:?}");
        }
    }
}
