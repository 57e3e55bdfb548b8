//! `augment logs`: both functions' log lines from their CloudWatch log groups,
//! merged in time order. The functions log one JSON object a line (`augment_aws`'s
//! logging: `timestamp`, `level`, `message`, `key`, `outcome`, `ms`…); Lambda's own
//! lines (`START`, `REPORT`) are kept as they are.

use std::fmt;
use std::time::Duration;

use aws_sdk_sqs::primitives::{DateTime, DateTimeFormat};
use serde::Serialize;
use serde_json::Value;

use super::aws::Operator;
use super::aws::{CallError, classify};
use super::denied::Denied;
use crate::error::ClientError;

/// Most lines one `logs` call returns (the newest are kept): a `--since` that
/// reaches far back is bounded, and says so.
pub const MAX_LOG_LINES: usize = 10_000;

/// Which lines to keep.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LogFilter {
    /// Only lines about this upload or output key (the `key` field).
    pub key: Option<String>,
    /// Only lines with this outcome (`processed`, `rejected`, `rotated`, `failed`…).
    pub outcome: Option<String>,
}

/// One log line, readable.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LogLine {
    /// Milliseconds since the epoch, as CloudWatch Logs received it.
    pub time_ms: i64,
    /// `processor`, `worker`, or the log group's name.
    pub function: String,
    pub level: Option<String>,
    pub key: Option<String>,
    pub outcome: Option<String>,
    pub ms: Option<u64>,
    /// The line's message (the whole line when it is not JSON).
    pub message: String,
    /// CloudWatch's id of the event: the same line is never shown twice.
    #[serde(skip)]
    pub event_id: String,
}

impl LogLine {
    /// A line as a function wrote it: a JSON object, or plain text.
    pub fn parse(function: &str, time_ms: i64, text: &str) -> Self {
        let text = text.trim_end();
        let json: Option<Value> = serde_json::from_str(text).ok();
        let field = |name: &str| {
            json.as_ref()
                .and_then(|j| j.get(name))
                .and_then(|v| v.as_str().map(str::to_owned))
        };
        let message = field("error")
            .or_else(|| field("message"))
            .unwrap_or_else(|| text.to_owned());
        Self {
            time_ms,
            function: function.to_owned(),
            level: field("level"),
            key: field("key"),
            outcome: field("outcome"),
            ms: json
                .as_ref()
                .and_then(|j| j.get("ms"))
                .and_then(Value::as_u64),
            message,
            event_id: String::new(),
        }
    }

    pub fn matches(&self, filter: &LogFilter) -> bool {
        let same = |wanted: &Option<String>, have: &Option<String>| {
            wanted.as_ref().is_none_or(|w| have.as_ref() == Some(w))
        };
        same(&filter.key, &self.key) && same(&filter.outcome, &self.outcome)
    }
}

/// `2026-12-06T16:40:00.123Z  worker     rotated      85 ms  <key>  <message>`.
impl fmt::Display for LogLine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Always three digits of milliseconds, so the columns line up.
        let time = DateTime::from_secs(self.time_ms.div_euclid(1000))
            .fmt(DateTimeFormat::DateTime)
            .map_or_else(
                |_| self.time_ms.to_string(),
                |secs| {
                    let millis = self.time_ms.rem_euclid(1000);
                    format!("{}.{millis:03}Z", secs.trim_end_matches('Z'))
                },
            );
        let outcome = self
            .outcome
            .as_deref()
            .or(self.level.as_deref())
            .unwrap_or("-");
        let ms = self.ms.map_or_else(String::new, |ms| format!("{ms} ms"));
        write!(f, "{time}  {:<9}  {outcome:<10}  {ms:>8}", self.function)?;
        if let Some(key) = &self.key {
            write!(f, "  {key}")?;
        }
        if self.outcome.is_none() || self.key.is_none() {
            write!(f, "  {}", self.message)?;
        }
        Ok(())
    }
}

/// `30s`, `15m`, `1h`, `2d` (or plain seconds) as a duration.
pub fn parse_since(text: &str) -> Result<Duration, String> {
    let (number, unit) = number_and_unit(text)
        .ok_or_else(|| format!("not a duration (e.g. 30s, 15m, 1h, 2d): {}", text.trim()))?;
    let secs = match unit {
        "" | "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return Err(format!("unknown unit {unit:?}: use s, m, h or d")),
    };
    Ok(Duration::from_secs(number.saturating_mul(secs)))
}

/// `text` (trimmed) as a whole number and the unit after it: `15m` → (15, "m").
pub fn number_and_unit(text: &str) -> Option<(u64, &str)> {
    let text = text.trim();
    let digits = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(digits);
    Some((number.parse().ok()?, unit))
}

impl Operator {
    /// The function a log group belongs to, for a line: `processor`, `worker`.
    fn function_of(&self, group: &str) -> String {
        let ends = |name: &Option<String>| name.as_deref().is_some_and(|n| group.ends_with(n));
        if ends(&self.ops.processor_function_name) {
            "processor".to_owned()
        } else if ends(&self.ops.worker_function_name) {
            "worker".to_owned()
        } else {
            group.to_owned()
        }
    }

    /// Both log groups' lines since `start_ms` that pass the filter, in time
    /// order (at most [`MAX_LOG_LINES`], the newest); a group the credentials
    /// may not read is a note.
    pub async fn log_lines(
        &self,
        start_ms: i64,
        filter: &LogFilter,
    ) -> Result<(Vec<LogLine>, Vec<Denied>), ClientError> {
        let mut lines = Vec::new();
        let mut denied = Vec::new();
        for group in &self.ops.log_groups {
            match self.group_lines(group, start_ms, filter, &mut lines).await {
                Ok(()) => {}
                Err(CallError::Denied) => denied.push(Denied::new(
                    format!("the log group {group}"),
                    &["logs:FilterLogEvents"],
                    &[format!(
                        "arn:aws:logs:{}:*:log-group:{group}:*",
                        self.region
                    )],
                )),
                Err(CallError::Failed(err)) => return Err(err),
            }
        }
        lines.sort_by(|a, b| (a.time_ms, &a.event_id).cmp(&(b.time_ms, &b.event_id)));
        let over = lines.len().saturating_sub(MAX_LOG_LINES);
        lines.drain(..over);
        Ok((lines, denied))
    }

    async fn group_lines(
        &self,
        group: &str,
        start_ms: i64,
        filter: &LogFilter,
        lines: &mut Vec<LogLine>,
    ) -> Result<(), CallError> {
        let function = self.function_of(group);
        let mut pages = self
            .logs
            .filter_log_events()
            .log_group_name(group)
            .start_time(start_ms)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|err| classify(err, "Reading the functions' logs"))?;
            for event in page.events() {
                let mut line = LogLine::parse(
                    &function,
                    event.timestamp().unwrap_or_default(),
                    event.message().unwrap_or_default(),
                );
                line.event_id = event.event_id().unwrap_or_default().to_owned();
                if line.matches(filter) {
                    lines.push(line);
                }
            }
            // Keep the newest: an old `--since` stays bounded.
            if lines.len() > 2 * MAX_LOG_LINES {
                lines.sort_by_key(|l| l.time_ms);
                lines.drain(..lines.len() - MAX_LOG_LINES);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_functions_json_line_is_read_and_formatted() {
        let text = r#"{"timestamp":"2026-12-06T16:40:00.123Z","level":"INFO","request_id":"r","key":"original-uploads/cat.jpg","bytes":10,"ms":85,"outcome":"processed","processed_key":"processed/cat_256x256.jpg"}"#;
        let line = LogLine::parse("processor", 1_796_575_200_120, text);
        assert_eq!(line.key.as_deref(), Some("original-uploads/cat.jpg"));
        assert_eq!(
            (line.outcome.as_deref(), line.ms),
            (Some("processed"), Some(85))
        );
        let shown = line.to_string();
        assert!(shown.starts_with("2026-12-06T16:40:00.120Z  "), "{shown}");
        assert!(shown.contains("processor  processed"), "{shown}");
        assert!(
            shown.ends_with("85 ms  original-uploads/cat.jpg"),
            "{shown}"
        );
        let filter = LogFilter {
            key: Some("original-uploads/cat.jpg".into()),
            outcome: Some("processed".into()),
        };
        assert!(line.matches(&filter));
        let other = LogFilter {
            outcome: Some("rejected".into()),
            ..LogFilter::default()
        };
        assert!(!line.matches(&other));
    }

    #[test]
    fn lambdas_own_lines_stay_as_they_are() {
        let line = LogLine::parse("worker", 0, "REPORT RequestId: x Duration: 3 ms\n");
        assert_eq!(line.message, "REPORT RequestId: x Duration: 3 ms");
        assert_eq!(line.outcome, None);
        assert!(line.matches(&LogFilter::default()));
        assert!(!line.matches(&LogFilter {
            key: Some("k".into()),
            outcome: None
        }));
    }

    #[test]
    fn since_takes_seconds_minutes_hours_days() {
        assert_eq!(parse_since("90"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_since("15m"), Ok(Duration::from_secs(900)));
        assert_eq!(parse_since("1h"), Ok(Duration::from_secs(3600)));
        assert_eq!(parse_since("2d"), Ok(Duration::from_secs(172_800)));
        assert!(parse_since("1w").is_err());
        assert!(parse_since("soon").is_err());
    }
}
