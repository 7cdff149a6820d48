//! Capabilities: what a sandboxed plugin may do beyond pure computation.
//!
//! pocket.toml grants them per plugin (`[plugins.permissions]`); the Lua and
//! WASM backends ask [`Permissions::check`] before every host call that needs
//! one, so both enforce exactly the same rules.

use std::fmt;

/// One grant, as written in pocket.toml.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Capability {
    /// `log`: write to Pocket's log.
    Log,
    /// `kv`: read and write the plugin's own namespace of the run's key-value store.
    Kv,
    /// `http` (any host) or `http:<host pattern>` (`*` matches any run of characters).
    Http(Option<String>),
    /// `env:<name pattern>`: read environment variables whose names match.
    Env(String),
}

impl Capability {
    /// Parses `log`, `kv`, `http`, `http:api.example.com`, `http:*.example.com`, `env:APP_*`.
    pub fn parse(text: &str) -> Result<Capability, String> {
        let (kind, arg) = match text.split_once(':') {
            Some((k, a)) => (k, Some(a)),
            None => (text, None),
        };
        match (kind, arg) {
            ("log", None) => Ok(Capability::Log),
            ("kv", None) => Ok(Capability::Kv),
            ("http", None) => Ok(Capability::Http(None)),
            ("http", Some(host)) if !host.is_empty() => Ok(Capability::Http(Some(host.to_ascii_lowercase()))),
            ("env", Some(name)) if !name.is_empty() => Ok(Capability::Env(name.to_string())),
            _ => Err(format!(
                "unknown capability `{text}` (expected `log`, `kv`, `http`, `http:<host>` or `env:<NAME pattern>`)"
            )),
        }
    }
}

impl fmt::Display for Capability {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Capability::Log => f.write_str("log"),
            Capability::Kv => f.write_str("kv"),
            Capability::Http(None) => f.write_str("http"),
            Capability::Http(Some(host)) => write!(f, "http:{host}"),
            Capability::Env(name) => write!(f, "env:{name}"),
        }
    }
}

/// Something a plugin is trying to do that needs a capability.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Request<'a> {
    /// Write a log line.
    Log,
    /// Use the key-value store.
    Kv,
    /// Send an HTTP request to this host.
    Http {
        /// The request URL's host.
        host: &'a str,
    },
    /// Read this environment variable.
    Env {
        /// The variable's name.
        name: &'a str,
    },
}

impl fmt::Display for Request<'_> {
    /// The capability that would allow the request, as pocket.toml spells it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Request::Log => f.write_str("log"),
            Request::Kv => f.write_str("kv"),
            Request::Http { host } => write!(f, "http:{host}"),
            Request::Env { name } => write!(f, "env:{name}"),
        }
    }
}

/// The capabilities granted to one plugin.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Permissions {
    granted: Vec<Capability>,
}

/// A request was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("permission denied: {capability}")]
pub struct Denied {
    /// The capability that would have allowed it.
    pub capability: String,
}

impl Permissions {
    /// Exactly these grants.
    pub fn new(granted: Vec<Capability>) -> Self {
        Permissions { granted }
    }

    /// The grants, in the order pocket.toml lists them.
    pub fn granted(&self) -> &[Capability] {
        &self.granted
    }

    /// Allows or refuses `request`. Refusals are logged with the plugin's name.
    pub fn check(&self, plugin: &str, request: Request<'_>) -> Result<(), Denied> {
        if self.granted.iter().any(|c| allows(c, request)) {
            return Ok(());
        }
        tracing::warn!(plugin, capability = %request, "capability denied");
        Err(Denied {
            capability: request.to_string(),
        })
    }
}

fn allows(capability: &Capability, request: Request<'_>) -> bool {
    match (capability, request) {
        (Capability::Log, Request::Log) | (Capability::Kv, Request::Kv) => true,
        (Capability::Http(None), Request::Http { .. }) => true,
        (Capability::Http(Some(pattern)), Request::Http { host }) => glob_match(pattern, &host.to_ascii_lowercase()),
        (Capability::Env(pattern), Request::Env { name }) => glob_match(pattern, name),
        _ => false,
    }
}

/// Matches `text` against `pattern`, where `*` stands for any run of characters.
pub fn glob_match(pattern: &str, text: &str) -> bool {
    let mut parts = pattern.split('*');
    let first = parts.next().unwrap_or_default();
    let Some(mut rest) = text.strip_prefix(first) else {
        return false;
    };
    let pieces: Vec<&str> = parts.collect();
    let Some((last, middle)) = pieces.split_last() else {
        return rest.is_empty();
    };
    for piece in middle {
        match rest.find(piece) {
            Some(i) => rest = &rest[i + piece.len()..],
            None => return false,
        }
    }
    rest.len() >= last.len() && rest.ends_with(last)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn perms(list: &[&str]) -> Permissions {
        Permissions::new(list.iter().map(|c| Capability::parse(c).unwrap()).collect())
    }

    #[test]
    fn http_grants_match_hosts_by_pattern() {
        let p = perms(&["http:api.example.com", "http:*.internal"]);
        assert!(
            p.check(
                "x",
                Request::Http {
                    host: "api.example.com"
                }
            )
            .is_ok()
        );
        assert!(
            p.check(
                "x",
                Request::Http {
                    host: "API.example.com"
                }
            )
            .is_ok()
        );
        assert!(p.check("x", Request::Http { host: "db.internal" }).is_ok());
        let denied = p.check("x", Request::Http { host: "evil.com" }).unwrap_err();
        assert_eq!(denied.to_string(), "permission denied: http:evil.com");
    }

    #[test]
    fn env_grants_match_names_by_pattern() {
        let p = perms(&["env:APP_*"]);
        assert!(p.check("x", Request::Env { name: "APP_MODE" }).is_ok());
        assert!(p.check("x", Request::Env { name: "HOME" }).is_err());
    }

    #[test]
    fn nothing_is_allowed_without_a_grant() {
        let p = perms(&[]);
        assert!(p.check("x", Request::Log).is_err());
        assert!(p.check("x", Request::Kv).is_err());
    }

    #[test]
    fn unknown_capabilities_are_refused_at_parse_time() {
        assert!(Capability::parse("shell").is_err());
        assert!(Capability::parse("env").is_err());
        assert_eq!(Capability::parse("http").unwrap(), Capability::Http(None));
    }

    #[test]
    fn glob_handles_edges() {
        assert!(glob_match("*", ""));
        assert!(glob_match("a*b*c", "axxbyyc"));
        assert!(!glob_match("a*b", "ab-"));
        assert!(!glob_match("abc", "abcd"));
        assert!(glob_match("*ab", "ab"));
        assert!(!glob_match("ab*ab", "ab"));
    }
}
