//! Durations as workflow files write them: `"5s"`, `"100ms"`, `"1m30s"`, or a
//! bare number of seconds.

use std::time::Duration;

use serde::{Deserialize, Deserializer, de};

/// Parses `"5s"`, `"1m30s"`, `"250ms"` (Go and humantime forms) or a number of seconds.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    if let Ok(seconds) = text.parse::<f64>() {
        return seconds_to_duration(seconds);
    }
    humantime::parse_duration(text)
        .map_err(|e| format!("invalid duration `{text}`: {e} (write e.g. `500ms`, `5s`, `1m30s`)"))
}

/// A limit's duration as people write it: `30s`, or `250ms` when it is not
/// whole seconds.
pub fn format_duration(duration: Duration) -> String {
    if duration.subsec_millis() == 0 {
        format!("{}s", duration.as_secs())
    } else {
        format!("{}ms", duration.as_millis())
    }
}

fn seconds_to_duration(seconds: f64) -> Result<Duration, String> {
    Duration::try_from_secs_f64(seconds).map_err(|_| format!("invalid duration: {seconds} seconds"))
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Written {
    Text(String),
    Seconds(f64),
}

/// Serde helper for a required duration field.
pub fn deserialize_duration<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
    match Written::deserialize(d)? {
        Written::Text(text) => parse_duration(&text),
        Written::Seconds(seconds) => seconds_to_duration(seconds),
    }
    .map_err(de::Error::custom)
}

/// Serde helper for an optional duration field.
pub fn deserialize_opt_duration<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
    deserialize_duration(d).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_and_humantime_forms_parse() {
        assert_eq!(parse_duration("5s").unwrap(), Duration::from_secs(5));
        assert_eq!(parse_duration("100ms").unwrap(), Duration::from_millis(100));
        assert_eq!(parse_duration("1m30s").unwrap(), Duration::from_secs(90));
        assert_eq!(parse_duration("2").unwrap(), Duration::from_secs(2));
    }

    #[test]
    fn nonsense_and_negative_durations_are_errors() {
        assert!(parse_duration("soon").unwrap_err().contains("invalid duration"));
        assert!(parse_duration("-1").is_err());
    }
}
