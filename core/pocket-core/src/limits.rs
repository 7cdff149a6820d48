//! Resource limits for sandboxed plugins (`[plugins.limits]` in pocket.toml).

use std::time::Duration;

use serde::Deserialize;

use crate::duration::deserialize_opt_duration;

/// The limits one plugin runs under. Each backend enforces the ones it can
/// (Lua: memory, instructions, timeout; WASM: memory, fuel, timeout).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Memory per Lua state or WASM linear memory, in bytes (default 64 MiB).
    pub memory: u64,
    /// WASM fuel (metered instructions) per call (default 1,000,000,000).
    pub fuel: u64,
    /// Lua VM instructions per call (default 100,000,000).
    pub instructions: u64,
    /// Wall-clock time per call (default 30 s).
    pub timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            memory: 64 * 1024 * 1024,
            fuel: 1_000_000_000,
            instructions: 100_000_000,
            timeout: Duration::from_secs(30),
        }
    }
}

/// Limits as written in one pocket.toml table: any subset of the keys.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LimitOverrides {
    /// `memory = "64MiB"` (or a number of bytes).
    #[serde(default, deserialize_with = "deserialize_opt_size")]
    pub memory: Option<u64>,
    /// `fuel = 1000000000`.
    #[serde(default)]
    pub fuel: Option<u64>,
    /// `instructions = 100000000`.
    #[serde(default)]
    pub instructions: Option<u64>,
    /// `timeout = "30s"`.
    #[serde(default, deserialize_with = "deserialize_opt_duration")]
    pub timeout: Option<Duration>,
}

impl Limits {
    /// These limits with `overrides` applied.
    pub fn with(mut self, overrides: &LimitOverrides) -> Limits {
        self.memory = overrides.memory.unwrap_or(self.memory);
        self.fuel = overrides.fuel.unwrap_or(self.fuel);
        self.instructions = overrides.instructions.unwrap_or(self.instructions);
        self.timeout = overrides.timeout.unwrap_or(self.timeout);
        self
    }
}

/// Parses a byte size: `65536`, `"64KiB"`, `"64MiB"`, `"1GiB"`, `"10MB"`, `"512B"`.
pub fn parse_size(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: f64 = number
        .parse()
        .map_err(|_| format!("invalid size `{text}` (write e.g. `64MiB`)"))?;
    let scale: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" => 1_000,
        "kib" => 1 << 10,
        "m" | "mb" => 1_000_000,
        "mib" => 1 << 20,
        "g" | "gb" => 1_000_000_000,
        "gib" => 1 << 30,
        other => {
            return Err(format!(
                "unknown size unit `{other}` in `{text}` (use B, KiB, MiB, GiB, KB, MB, GB)"
            ));
        }
    };
    Ok((number * scale as f64) as u64)
}

#[derive(Deserialize)]
#[serde(untagged)]
enum WrittenSize {
    Bytes(u64),
    Text(String),
}

fn deserialize_opt_size<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    match WrittenSize::deserialize(d)? {
        WrittenSize::Bytes(n) => Ok(Some(n)),
        WrittenSize::Text(text) => parse_size(&text).map(Some).map_err(serde::de::Error::custom),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse_in_binary_and_decimal_units() {
        assert_eq!(parse_size("64MiB").unwrap(), 64 << 20);
        assert_eq!(parse_size("10 MB").unwrap(), 10_000_000);
        assert_eq!(parse_size("512").unwrap(), 512);
        assert!(parse_size("lots").is_err());
        assert!(parse_size("5 parsecs").unwrap_err().contains("unit"));
    }

    #[test]
    fn overrides_replace_only_what_they_name() {
        let base = Limits::default();
        let limits = base.with(&LimitOverrides {
            fuel: Some(5),
            ..Default::default()
        });
        assert_eq!(limits.fuel, 5);
        assert_eq!(limits.memory, base.memory);
    }
}
