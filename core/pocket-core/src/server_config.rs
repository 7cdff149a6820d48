//! pocket.toml's `[server]` section: how `pocket serve` listens, where it
//! keeps run history, who may call it and how much it takes on at once.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

/// What an API token may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    /// Start and cancel runs.
    Run,
    /// Read runs, workflows, plugins and node types.
    Read,
    /// Everything, including loading and unloading plugins.
    Admin,
}

/// One `[[server.tokens]]` entry. The token itself is never stored: only
/// the SHA-256 of its text (`pocket serve --hash-token` prints it).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenConfig {
    /// A name for logs and errors.
    pub name: String,
    /// Lower-case hex SHA-256 of the token.
    pub sha256: String,
    /// What the token may do.
    pub scopes: Vec<Scope>,
    /// Workflow name patterns (`*` wildcards) whose runs it may start and read.
    #[serde(default = "every_workflow")]
    pub workflows: Vec<String>,
}

fn every_workflow() -> Vec<String> {
    vec!["*".to_string()]
}

/// Where run history is kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HistoryLocation {
    /// An SQLite database file (created if missing).
    Sqlite(PathBuf),
    /// A PostgreSQL server, by URL (`postgres://user:pass@host/db`).
    Postgres(String),
}

/// The `[server]` section.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Address to listen on (default `127.0.0.1:8080`).
    pub listen: SocketAddr,
    /// Directory of workflow files served by name (default: none).
    pub workflows: Option<PathBuf>,
    /// Run history (default: `pocket-history.db` beside pocket.toml).
    pub history: HistoryLocation,
    /// Finished runs older than this are deleted (default 7 days).
    pub retention: Duration,
    /// Runs executing at once (default 64).
    pub max_concurrent_runs: usize,
    /// Runs waiting for a slot before new ones get 429 (default 1024).
    pub queue_depth: usize,
    /// Largest request body in bytes (default 1 MiB).
    pub max_body: u64,
    /// How long SIGTERM waits for running runs before stopping them (default 30 s).
    pub drain_timeout: Duration,
    /// API tokens; none means the API is open (allowed on loopback only).
    pub tokens: Vec<TokenConfig>,
}

impl ServerConfig {
    /// The defaults, with relative paths resolved against `base` (pocket.toml's directory).
    pub fn defaults(base: &Path) -> ServerConfig {
        ServerConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            workflows: None,
            history: HistoryLocation::Sqlite(base.join("pocket-history.db")),
            retention: Duration::from_secs(7 * 24 * 3600),
            max_concurrent_runs: 64,
            queue_depth: 1024,
            max_body: 1 << 20,
            drain_timeout: Duration::from_secs(30),
            tokens: Vec::new(),
        }
    }
}

/// `[server]` as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ServerModel {
    listen: Option<SocketAddr>,
    workflows: Option<String>,
    history: Option<String>,
    #[serde(default, deserialize_with = "crate::duration::deserialize_opt_duration")]
    retention: Option<Duration>,
    max_concurrent_runs: Option<usize>,
    queue_depth: Option<usize>,
    max_body: Option<String>,
    #[serde(default, deserialize_with = "crate::duration::deserialize_opt_duration")]
    drain_timeout: Option<Duration>,
    #[serde(default)]
    tokens: Vec<TokenConfig>,
}

impl ServerModel {
    /// The section with defaults filled in and paths resolved against `base`.
    pub(crate) fn resolve(self, base: &Path) -> Result<ServerConfig, String> {
        let defaults = ServerConfig::defaults(base);
        let history = match self.history {
            None => defaults.history,
            Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
                HistoryLocation::Postgres(url)
            }
            Some(path) => HistoryLocation::Sqlite(base.join(path.strip_prefix("sqlite:").unwrap_or(&path))),
        };
        let max_body = match self.max_body {
            None => defaults.max_body,
            Some(text) => crate::parse_size(&text).map_err(|e| format!("[server] max_body: {e}"))?,
        };
        for token in &self.tokens {
            let hex = &token.sha256;
            if hex.len() != 64 || !hex.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) {
                return Err(format!(
                    "[[server.tokens]] `{}`: sha256 must be 64 lower-case hex digits (print it with `pocket serve --hash-token`)",
                    token.name
                ));
            }
            if token.scopes.is_empty() {
                return Err(format!(
                    "[[server.tokens]] `{}`: give at least one scope (run, read, admin)",
                    token.name
                ));
            }
        }
        if self.max_concurrent_runs == Some(0) {
            return Err("[server] max_concurrent_runs must be at least 1".into());
        }
        Ok(ServerConfig {
            listen: self.listen.unwrap_or(defaults.listen),
            workflows: self.workflows.map(|dir| base.join(dir)),
            history,
            retention: self.retention.unwrap_or(defaults.retention),
            max_concurrent_runs: self.max_concurrent_runs.unwrap_or(defaults.max_concurrent_runs),
            queue_depth: self.queue_depth.unwrap_or(defaults.queue_depth),
            max_body,
            drain_timeout: self.drain_timeout.unwrap_or(defaults.drain_timeout),
            tokens: self.tokens,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<ServerConfig, String> {
        let model: ServerModel = toml::from_str(text).map_err(|e| e.to_string())?;
        model.resolve(Path::new("/srv"))
    }

    #[test]
    fn defaults_fill_what_is_not_written_and_paths_are_relative_to_pocket_toml() {
        let config = parse("workflows = \"flows\"\nmax_body = \"2MiB\"\nretention = \"1h\"\n").unwrap();
        assert_eq!(config.workflows, Some(PathBuf::from("/srv/flows")));
        assert_eq!(
            config.history,
            HistoryLocation::Sqlite(PathBuf::from("/srv/pocket-history.db"))
        );
        assert_eq!(config.max_body, 2 << 20);
        assert_eq!(config.retention, Duration::from_secs(3600));
        assert_eq!(config.max_concurrent_runs, 64);
        let pg = parse("history = \"postgres://u@localhost/db\"\n").unwrap();
        assert_eq!(
            pg.history,
            HistoryLocation::Postgres("postgres://u@localhost/db".into())
        );
    }

    #[test]
    fn tokens_need_a_hash_and_a_scope() {
        let hash = "a".repeat(64);
        let ok = parse(&format!(
            "[[tokens]]\nname = \"ci\"\nsha256 = \"{hash}\"\nscopes = [\"run\"]\n"
        ))
        .unwrap();
        assert_eq!(ok.tokens[0].scopes, vec![Scope::Run]);
        assert_eq!(ok.tokens[0].workflows, vec!["*"]);
        let short = parse("[[tokens]]\nname = \"ci\"\nsha256 = \"abc\"\nscopes = [\"run\"]\n").unwrap_err();
        assert!(short.contains("64 lower-case hex"), "{short}");
        let none = parse(&format!(
            "[[tokens]]\nname = \"ci\"\nsha256 = \"{hash}\"\nscopes = []\n"
        ))
        .unwrap_err();
        assert!(none.contains("at least one scope"), "{none}");
        assert!(parse("[[tokens]]\nname = \"x\"\nsha256 = \"a\"\nscopes = [\"root\"]\n").is_err());
    }
}
