//! Resource limits for sandboxed plugins (`[plugins.limits]` in pocket.toml).

use std::time::Duration;

use serde::Deserialize;

use crate::duration::deserialize_opt_duration;

/// A limit that stopped a sandboxed call, named as pocket.toml names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Limit {
    /// Memory of a Lua state or a WASM linear memory (`memory`).
    Memory,
    /// Lua VM instructions per call (`instructions`).
    Instructions,
    /// WASM fuel per call (`fuel`).
    Fuel,
    /// Wall-clock time per call (`timeout`).
    Timeout,
    /// The guest's call stack (not configurable).
    Stack,
}

impl Limit {
    /// The limit's name, as pocket.toml writes it.
    pub fn name(self) -> &'static str {
        match self {
            Limit::Memory => "memory",
            Limit::Instructions => "instructions",
            Limit::Fuel => "fuel",
            Limit::Timeout => "timeout",
            Limit::Stack => "stack",
        }
    }
}

impl std::fmt::Display for Limit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

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
    /// How long an idle Lua state or WASM instance is kept for reuse
    /// (default 60 s); after it, it is dropped and its memory returned.
    pub idle_timeout: Duration,
    /// The largest HTTP response body a plugin's `http_request` reads, in
    /// bytes (default 16 MiB); a larger one fails the request.
    pub http_body: u64,
    /// The most bytes of log lines a plugin writes per minute (default
    /// 1 MiB); further lines are dropped until the minute is over.
    pub log_bytes: u64,
    /// The most bytes a plugin's entries in one run's key-value store take
    /// (default 16 MiB); a `kv_set` past it is refused.
    pub kv_bytes: u64,
    /// The most keys a plugin may hold in one run's store (default 10,000).
    pub kv_keys: u64,
    /// The largest single value a plugin may store, in bytes (default 1 MiB).
    pub kv_value_bytes: u64,
    /// Host calls of every kind a plugin may make in any one second
    /// (default 10,000); past it a call is not made and fails.
    pub host_calls_per_second: u64,
    /// HTTP requests a plugin may send in any one minute (default 600).
    pub http_per_minute: u64,
    /// kv operations (`get` and `set`) a plugin may make in any one second
    /// (default 5,000).
    pub kv_per_second: u64,
    /// Calls of other node types a plugin may make in any one second
    /// (default 1,000).
    pub plugin_calls_per_second: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            memory: 64 * 1024 * 1024,
            fuel: 1_000_000_000,
            instructions: 100_000_000,
            timeout: Duration::from_secs(30),
            idle_timeout: Duration::from_secs(60),
            http_body: 16 * 1024 * 1024,
            log_bytes: 1024 * 1024,
            kv_bytes: 16 * 1024 * 1024,
            kv_keys: 10_000,
            kv_value_bytes: 1024 * 1024,
            host_calls_per_second: 10_000,
            http_per_minute: 600,
            kv_per_second: 5_000,
            plugin_calls_per_second: 1_000,
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
    /// `idle_timeout = "60s"`.
    #[serde(default, deserialize_with = "deserialize_opt_duration")]
    pub idle_timeout: Option<Duration>,
    /// `http_body = "16MiB"` (or a number of bytes).
    #[serde(default, deserialize_with = "deserialize_opt_size")]
    pub http_body: Option<u64>,
    /// `log_bytes = "1MiB"` (per minute).
    #[serde(default, deserialize_with = "deserialize_opt_size")]
    pub log_bytes: Option<u64>,
    /// `kv_bytes = "16MiB"`.
    #[serde(default, deserialize_with = "deserialize_opt_size")]
    pub kv_bytes: Option<u64>,
    /// `kv_keys = 10000`.
    #[serde(default)]
    pub kv_keys: Option<u64>,
    /// `kv_value_bytes = "1MiB"`.
    #[serde(default, deserialize_with = "deserialize_opt_size")]
    pub kv_value_bytes: Option<u64>,
    /// `host_calls_per_second = 10000`.
    #[serde(default)]
    pub host_calls_per_second: Option<u64>,
    /// `http_per_minute = 600`.
    #[serde(default)]
    pub http_per_minute: Option<u64>,
    /// `kv_per_second = 5000`.
    #[serde(default)]
    pub kv_per_second: Option<u64>,
    /// `plugin_calls_per_second = 1000`.
    #[serde(default)]
    pub plugin_calls_per_second: Option<u64>,
}

/// The smallest `memory` limit: one WASM page. Below it no Lua state or
/// WASM instance can start, and 0 would mean "no limit" to Lua.
pub const MIN_MEMORY: u64 = 64 * 1024;

impl LimitOverrides {
    /// Refuses values that cannot be meant: zero (which some runtimes read
    /// as "unlimited") and a memory limit below [`MIN_MEMORY`].
    pub fn check(&self) -> Result<(), String> {
        if let Some(memory) = self.memory
            && memory < MIN_MEMORY
        {
            return Err(format!(
                "`memory = {memory}` is below the minimum of {MIN_MEMORY} bytes (64KiB); write e.g. `memory = \"64MiB\"`"
            ));
        }
        for (key, value) in [
            ("fuel", self.fuel),
            ("instructions", self.instructions),
            ("http_body", self.http_body),
            ("log_bytes", self.log_bytes),
            ("kv_bytes", self.kv_bytes),
            ("kv_keys", self.kv_keys),
            ("kv_value_bytes", self.kv_value_bytes),
            ("host_calls_per_second", self.host_calls_per_second),
            ("http_per_minute", self.http_per_minute),
            ("kv_per_second", self.kv_per_second),
            ("plugin_calls_per_second", self.plugin_calls_per_second),
        ] {
            if value == Some(0) {
                return Err(format!(
                    "`{key} = 0` leaves nothing to work with; give a positive number"
                ));
            }
        }
        if self.timeout.is_some_and(|t| t.is_zero()) {
            return Err("`timeout` must be longer than zero; write e.g. `timeout = \"30s\"`".into());
        }
        if self.idle_timeout.is_some_and(|t| t.is_zero()) {
            return Err("`idle_timeout` must be longer than zero; write e.g. `idle_timeout = \"60s\"`".into());
        }
        Ok(())
    }
}

impl Limits {
    /// These limits with `overrides` applied.
    pub fn with(mut self, overrides: &LimitOverrides) -> Limits {
        self.memory = overrides.memory.unwrap_or(self.memory);
        self.fuel = overrides.fuel.unwrap_or(self.fuel);
        self.instructions = overrides.instructions.unwrap_or(self.instructions);
        self.timeout = overrides.timeout.unwrap_or(self.timeout);
        self.idle_timeout = overrides.idle_timeout.unwrap_or(self.idle_timeout);
        self.http_body = overrides.http_body.unwrap_or(self.http_body);
        self.log_bytes = overrides.log_bytes.unwrap_or(self.log_bytes);
        self.kv_bytes = overrides.kv_bytes.unwrap_or(self.kv_bytes);
        self.kv_keys = overrides.kv_keys.unwrap_or(self.kv_keys);
        self.kv_value_bytes = overrides.kv_value_bytes.unwrap_or(self.kv_value_bytes);
        self.host_calls_per_second = overrides.host_calls_per_second.unwrap_or(self.host_calls_per_second);
        self.http_per_minute = overrides.http_per_minute.unwrap_or(self.http_per_minute);
        self.kv_per_second = overrides.kv_per_second.unwrap_or(self.kv_per_second);
        self.plugin_calls_per_second = overrides
            .plugin_calls_per_second
            .unwrap_or(self.plugin_calls_per_second);
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
    let bytes = (number * scale as f64).floor();
    if bytes >= u64::MAX as f64 {
        return Err(format!("size `{text}` is too large"));
    }
    #[expect(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        reason = "a whole number of digits and dots, below u64::MAX: checked above"
    )]
    let bytes = bytes as u64;
    Ok(bytes)
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
        assert_eq!(parse_size("1.5KiB").unwrap(), 1536);
        // Past u64::MAX is an error, not a size that silently means "no limit".
        assert!(parse_size("99999999999999999999GiB").unwrap_err().contains("too large"));
        assert!(parse_size("18446744073709551616").unwrap_err().contains("too large"));
    }

    #[test]
    fn zero_and_tiny_limits_are_refused() {
        let check = |toml: &str| toml::from_str::<LimitOverrides>(toml).unwrap().check();
        for (written, expected) in [
            ("memory = 0", "minimum"),
            ("memory = 1000", "minimum"),
            ("fuel = 0", "fuel = 0"),
            ("instructions = 0", "instructions = 0"),
            ("kv_bytes = 0", "kv_bytes = 0"),
            ("timeout = \"0s\"", "timeout"),
        ] {
            let err = check(written).unwrap_err();
            assert!(err.contains(expected), "{written}: {err}");
        }
        assert_eq!(check("memory = \"64KiB\"\nfuel = 1"), Ok(()));
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
