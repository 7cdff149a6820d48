//! Capabilities: what a plugin may ask the host to do beyond pure computation.
//!
//! A plugin *declares* the capabilities it needs (its Lua table, WASM
//! description, native descriptor or package manifest); pocket.toml *grants*
//! capabilities per plugin (`[plugins.permissions]`). A host call is allowed
//! only when both cover it: a grant the plugin never declared does not
//! widen what it may do. Every backend asks [`Permissions::check`] before
//! every host call that needs a capability, so all enforce the same rules.

use std::fmt;

/// One capability, as pocket.toml and plugin declarations write it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Capability {
    /// `log`: write to Pocket's log.
    Log,
    /// `kv`: read and write the plugin's own namespace of the run's key-value store.
    Kv,
    /// `http` (any host) or `http:<host pattern>` (`*` matches any run of characters).
    Http(Option<String>),
    /// `env:<name pattern>`: read environment variables whose names match.
    Env(String),
    /// `config:<key pattern>`: receive the plugin config's keys that look
    /// secret (`password`, `token`...), at any depth, whose dotted path
    /// (`password`, `database.password`) matches; other keys need no grant.
    Config(String),
    /// `plugin_call:<plugin/type pattern>`: run another node type.
    PluginCall(String),
    /// `file:<path pattern>` (read) or `file_write:<path pattern>` (read,
    /// create, change and remove): reach the files whose absolute paths
    /// match, and everything beneath a directory that matches.
    File {
        /// The absolute path pattern (`*` matches any run of characters).
        pattern: String,
        /// Whether it allows changes, not only reading.
        write: bool,
    },
}

impl Capability {
    /// Parses `log`, `kv`, `http`, `http:api.example.com`, `http:*.example.com`,
    /// `env:APP_*`, `config:password`, `plugin_call:text-tools/*`, `file:/data/*`,
    /// `file_write:/data/out`.
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
            ("config", Some(key)) if !key.is_empty() => Ok(Capability::Config(key.to_string())),
            ("plugin_call", Some(target)) if !target.is_empty() => Ok(Capability::PluginCall(target.to_string())),
            ("file" | "file_write", Some(path)) if path.starts_with('/') || path.starts_with('*') => {
                Ok(Capability::File {
                    pattern: path.to_string(),
                    write: kind == "file_write",
                })
            }
            ("file" | "file_write", Some(path)) => Err(format!(
                "`{text}`: a file pattern is an absolute path (`{kind}:/data/{path}`, or `{kind}:*` for every file)"
            )),
            _ => Err(format!(
                "unknown capability `{text}` (expected `log`, `kv`, `http`, `http:<host>`, `env:<NAME pattern>`, \
                 `config:<key>`, `plugin_call:<plugin/type>`, `file:<path>`, `file_write:<path>`, or one of the \
                 Go engine's `read_env`, `http_client`, `network_access`, `write_files`, `none`)"
            )),
        }
    }

    /// Parses a list, accepting the permission names the Go Pocket engine's
    /// docs use as synonyms: `read_env` (`env:*`), `http_client` and
    /// `network_access` (`http`), `write_files` (`file_write:*`), and `none`
    /// (nothing).
    pub fn parse_list<S: AsRef<str>>(texts: &[S]) -> Result<Vec<Capability>, String> {
        let mut list = Vec::new();
        for text in texts {
            match text.as_ref() {
                "none" => {}
                "read_env" => list.push(Capability::Env("*".into())),
                "http_client" | "network_access" => list.push(Capability::Http(None)),
                "write_files" => list.push(Capability::File {
                    pattern: "*".into(),
                    write: true,
                }),
                other => list.push(Capability::parse(other)?),
            }
        }
        Ok(list)
    }

    /// Whether this capability allows everything `other` allows (a grant
    /// covering a declaration).
    pub fn covers(&self, other: &Capability) -> bool {
        match (self, other) {
            (Capability::Log, Capability::Log) | (Capability::Kv, Capability::Kv) => true,
            (Capability::Http(None), Capability::Http(_)) => true,
            // What the check allows, as far as names tell: `builtin/...`
            // needs a pattern naming `builtin` (see `reaches`).
            (Capability::PluginCall(a), Capability::PluginCall(b)) => {
                let plain = !b.starts_with("builtin/") || names_plugin(a, b);
                a == b || (plain && (a == "*" || (!b.contains('*') && glob_match(a, b))))
            }
            (Capability::Http(Some(a)), Capability::Http(Some(b)))
            | (Capability::Env(a), Capability::Env(b))
            | (Capability::Config(a), Capability::Config(b)) => {
                a == "*" || a == b || (!b.contains('*') && glob_match(a, b))
            }
            (
                Capability::File {
                    pattern: a,
                    write: a_writes,
                },
                Capability::File {
                    pattern: b,
                    write: b_writes,
                },
            ) => {
                (*a_writes || !b_writes)
                    && (a == "*" || a == b || (!b.contains('*') && file_match(a, b)) || beneath(a, b))
            }
            _ => false,
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
            Capability::Config(key) => write!(f, "config:{key}"),
            Capability::PluginCall(target) => write!(f, "plugin_call:{target}"),
            Capability::File { pattern, write: false } => write!(f, "file:{pattern}"),
            Capability::File { pattern, write: true } => write!(f, "file_write:{pattern}"),
        }
    }
}

impl serde::Serialize for Capability {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Capability {
    /// Reads a capability as pocket.toml writes it ([`Capability::parse`]).
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        Capability::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// Something a plugin is trying to do that needs a capability.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
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
    /// Run this node type (`plugin/type`).
    PluginCall {
        /// The full name of the node type.
        target: &'a str,
        /// Whether it is built into Pocket (and runs outside any sandbox).
        built_in: bool,
    },
    /// Reach this file or directory.
    File {
        /// Its absolute path, `.` and `..` resolved; a directory's ends
        /// with `/` (so `file:/data/in/*` reaches `/data/in/` itself).
        path: &'a str,
        /// Whether the request creates, changes or removes it.
        write: bool,
    },
    /// Receive the plugin config's entry at this dotted path (`password`,
    /// `database.password`), whose key looks secret.
    Config {
        /// The entry's path from the top of the config.
        key: &'a str,
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
            Request::PluginCall { target, .. } => write!(f, "plugin_call:{target}"),
            Request::File { path, write: false } => write!(f, "file:{path}"),
            Request::File { path, write: true } => write!(f, "file_write:{path}"),
            Request::Config { key } => write!(f, "config:{key}"),
        }
    }
}

/// What one plugin may do: the capabilities pocket.toml grants it, narrowed
/// to those it declares.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Permissions {
    granted: Vec<Capability>,
    /// What the plugin declares; `None` for code built into Pocket, which
    /// declares nothing and is bound by its grants alone.
    declared: Option<Vec<Capability>>,
}

/// Why a request was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DenialReason {
    /// pocket.toml does not grant it.
    NotGranted,
    /// The plugin does not declare it.
    NotDeclared,
}

/// A request was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("permission denied: {capability} ({})", match .reason {
    DenialReason::NotGranted => "pocket.toml does not grant it to this plugin",
    DenialReason::NotDeclared => "the plugin does not declare it",
})]
pub struct Denied {
    /// The capability that would have allowed it.
    pub capability: String,
    /// Which side refused.
    pub reason: DenialReason,
}

impl Permissions {
    /// Exactly these grants (for code that declares nothing: built into Pocket).
    pub fn new(granted: Vec<Capability>) -> Self {
        Permissions {
            granted,
            declared: None,
        }
    }

    /// These grants, narrowed to what a plugin declares.
    pub fn declared_by(self, declared: &[Capability]) -> Self {
        Permissions {
            declared: Some(declared.to_vec()),
            ..self
        }
    }

    /// The grants, in the order pocket.toml lists them.
    pub fn granted(&self) -> &[Capability] {
        &self.granted
    }

    /// What the plugin declares (`None`: built into Pocket).
    pub fn declared(&self) -> Option<&[Capability]> {
        self.declared.as_deref()
    }

    /// The declared capabilities no grant covers: what pocket.toml would
    /// have to add for the plugin to do all it declares.
    pub fn missing(&self) -> Vec<&Capability> {
        self.declared
            .iter()
            .flatten()
            .filter(|d| !self.granted.iter().any(|g| g.covers(d)))
            .collect()
    }

    /// Allows or refuses `request`. Refusals are logged with the plugin's name.
    pub fn check(&self, plugin: &str, request: Request<'_>) -> Result<(), Denied> {
        match self.refusal(request) {
            None => Ok(()),
            Some(reason) => {
                tracing::warn!(plugin, capability = %request, ?reason, "capability denied");
                Err(Denied {
                    capability: request.to_string(),
                    reason,
                })
            }
        }
    }

    /// Why `request` would be refused (`None`: it is allowed: granted, and
    /// declared by a plugin that declares). The one rule [`check`](Self::check)
    /// applies, without logging.
    pub fn refusal(&self, request: Request<'_>) -> Option<DenialReason> {
        if !self.granted.iter().any(|c| allows(c, request)) {
            Some(DenialReason::NotGranted)
        } else if self
            .declared
            .as_ref()
            .is_some_and(|declared| !declared.iter().any(|c| allows(c, request)))
        {
            Some(DenialReason::NotDeclared)
        } else {
            None
        }
    }
}

fn allows(capability: &Capability, request: Request<'_>) -> bool {
    match (capability, request) {
        (Capability::Log, Request::Log) | (Capability::Kv, Request::Kv) => true,
        (Capability::Http(None), Request::Http { .. }) => true,
        (Capability::Http(Some(pattern)), Request::Http { host }) => glob_match(pattern, &host.to_ascii_lowercase()),
        (Capability::Env(pattern), Request::Env { name }) => glob_match(pattern, name),
        (Capability::PluginCall(pattern), Request::PluginCall { target, built_in }) => {
            reaches(pattern, target, built_in)
        }
        (Capability::File { pattern, write }, Request::File { path, write: writes }) => {
            (*write || !writes) && file_match(pattern, path)
        }
        (Capability::Config(pattern), Request::Config { key }) => glob_match(pattern, key),
        _ => false,
    }
}

/// Whether a file pattern reaches `path`: it matches the path, or a
/// directory above it (`/data/in` reaches `/data/in/a.txt`).
fn file_match(pattern: &str, path: &str) -> bool {
    glob_match(pattern, path)
        || path
            .match_indices('/')
            .any(|(at, _)| at > 0 && glob_match(pattern, &path[..at]))
}

/// Whether the pattern `inner` names only paths beneath the directory the
/// pattern `outer` names (without a `*`).
fn beneath(outer: &str, inner: &str) -> bool {
    !outer.contains('*')
        && inner
            .strip_prefix(outer.trim_end_matches('/'))
            .is_some_and(|rest| rest.starts_with('/'))
}

/// Whether a `plugin_call:` pattern reaches the node type `target`. Types
/// built into Pocket (`builtin/exec`, `builtin/http`, the inline `lua/lua`...)
/// run outside any sandbox or under grants of their own, so only a pattern
/// that names their plugin (`builtin/http`, `builtin/*`, `lua/lua`) reaches
/// them: `*` or `*/exec` never does.
fn reaches(pattern: &str, target: &str, built_in: bool) -> bool {
    glob_match(pattern, target) && (!built_in || names_plugin(pattern, target))
}

/// Whether `pattern`'s plugin part is `target`'s plugin, written out.
fn names_plugin(pattern: &str, target: &str) -> bool {
    match (pattern.split_once('/'), target.split_once('/')) {
        (Some((wanted, _)), Some((plugin, _))) => wanted == plugin,
        _ => false,
    }
}

/// Whether a config key looks like it holds a secret (`password`,
/// `secret`, `token`, `key`, `credential`, in any case, anywhere in it):
/// such keys, at any depth, reach a plugin only when pocket.toml grants it
/// `config:<path>` and the plugin declares it (see `secret_config`).
pub fn looks_secret(key: &str) -> bool {
    let key = key.to_ascii_lowercase();
    ["password", "secret", "token", "key", "credential"]
        .iter()
        .any(|word| key.contains(word))
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

    #[test]
    fn only_a_pattern_naming_builtin_reaches_a_built_in_type() {
        let call = |target: &'static str| Request::PluginCall {
            target,
            built_in: target.starts_with("builtin/") || target == "lua/lua",
        };
        let granted = |pattern: &str| perms(&[&format!("plugin_call:{pattern}")]);
        assert!(granted("*").check("p", call("text-tools/upper")).is_ok());
        for pattern in ["*", "*/exec", "*exec"] {
            assert!(granted(pattern).check("p", call("builtin/exec")).is_err(), "{pattern}");
        }
        assert!(granted("builtin/http").check("p", call("builtin/http")).is_ok());
        assert!(granted("builtin/*").check("p", call("builtin/exec")).is_ok());
        assert!(
            granted("*").check("p", call("lua/lua")).is_err(),
            "the inline lua node is built in"
        );
        assert!(granted("lua/lua").check("p", call("lua/lua")).is_ok());
        let exec = Capability::PluginCall("builtin/exec".into());
        assert!(!Capability::PluginCall("*".into()).covers(&exec));
        assert!(Capability::PluginCall("builtin/*".into()).covers(&exec));
        assert!(Capability::PluginCall("*".into()).covers(&Capability::PluginCall("text-tools/*".into())));
    }

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
        assert_eq!(
            denied.to_string(),
            "permission denied: http:evil.com (pocket.toml does not grant it to this plugin)"
        );
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
    fn a_grant_the_plugin_never_declared_does_not_allow_a_call() {
        let declared = Capability::parse_list(&["http:api.example.com", "log"]).unwrap();
        let p = perms(&["http", "kv", "log"]).declared_by(&declared);
        assert!(
            p.check(
                "x",
                Request::Http {
                    host: "api.example.com"
                }
            )
            .is_ok()
        );
        let other = p.check("x", Request::Http { host: "evil.com" }).unwrap_err();
        assert_eq!(other.reason, DenialReason::NotDeclared);
        assert_eq!(p.check("x", Request::Kv).unwrap_err().reason, DenialReason::NotDeclared);
        let narrow = perms(&["log"]).declared_by(&declared);
        assert_eq!(narrow.missing(), [&Capability::Http(Some("api.example.com".into()))]);
        let denied = narrow
            .check(
                "x",
                Request::Http {
                    host: "api.example.com",
                },
            )
            .unwrap_err();
        assert_eq!(denied.reason, DenialReason::NotGranted);
    }

    #[test]
    fn the_go_engines_permission_names_are_synonyms() {
        let list =
            Capability::parse_list(&["read_env", "http_client", "network_access", "write_files", "none"]).unwrap();
        assert_eq!(
            list,
            [
                Capability::Env("*".into()),
                Capability::Http(None),
                Capability::Http(None),
                Capability::File {
                    pattern: "*".into(),
                    write: true
                }
            ]
        );
        assert!(Capability::parse_list(&["root"]).is_err());
    }

    #[test]
    fn file_grants_reach_what_they_match_and_what_lies_beneath_reading_unless_they_say_write() {
        let read = |grant: &str, path: &str| {
            Permissions::new(vec![Capability::parse(grant).unwrap()])
                .refusal(Request::File { path, write: false })
                .is_none()
        };
        let write = |grant: &str, path: &str| {
            Permissions::new(vec![Capability::parse(grant).unwrap()])
                .refusal(Request::File { path, write: true })
                .is_none()
        };
        assert!(read("file:/data/in", "/data/in/"));
        assert!(read("file:/data/in", "/data/in/a/b.txt"));
        assert!(!read("file:/data/in", "/data/inside.txt"));
        assert!(read("file:/data/in/*", "/data/in/"));
        assert!(read("file:/data/*.csv", "/data/a.csv"));
        assert!(!read("file:/data/*.csv", "/data/"));
        assert!(!read("file:/data/*.csv", "/data/a.txt"));
        assert!(!write("file:/data/in", "/data/in/a"));
        assert!(write("file_write:/data/in", "/data/in/a"));
        assert!(read("file_write:/data/in", "/data/in/a"));
        assert!(write("file_write:*", "/etc/passwd"));
        assert_eq!(
            Request::File {
                path: "/x",
                write: true
            }
            .to_string(),
            "file_write:/x"
        );
        // Patterns are absolute paths.
        let err = Capability::parse("file:data/*").unwrap_err();
        assert!(err.contains("absolute path"), "{err}");
        // A grant covers a declaration it reaches, writing only if it writes.
        let cap = |text: &str| Capability::parse(text).unwrap();
        assert!(cap("file:/data").covers(&cap("file:/data/in/*")));
        assert!(cap("file_write:/data/*").covers(&cap("file:/data/in")));
        assert!(!cap("file:/data").covers(&cap("file_write:/data/in")));
        assert!(!cap("file:/data/in").covers(&cap("file:/data")));
        assert!(!cap("file:/data").covers(&cap("file:/database")));
    }

    #[test]
    fn grants_cover_declarations_by_pattern() {
        let cover = |g: &str, d: &str| Capability::parse(g).unwrap().covers(&Capability::parse(d).unwrap());
        assert!(cover("http", "http:a.com") && cover("http:*.a.com", "http:x.a.com") && cover("env:*", "env:HOME"));
        assert!(!cover("http:a.com", "http") && !cover("http:x.a.com", "http:*.a.com") && !cover("kv", "log"));
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
