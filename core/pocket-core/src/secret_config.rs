//! What of its config a plugin sees: the one rule, applied when a node is
//! prepared, before any backend (Lua's `config`, WASM's `config_get`, a
//! native plugin's setup and `config_get`, in process or isolated) gets it.
//!
//! A key that looks secret ([`looks_secret`]), at any depth, is withheld
//! unless a `config:<pattern>` capability matches its dotted path from the
//! top (`password`, `database.password`, `servers.0.token`) and the plugin
//! both is granted and declares it ([`Permissions::refusal`]). A matched
//! key reaches the plugin with its whole value.

use pocket_value::{Map, Value};

use crate::permissions::{Permissions, Request, looks_secret};

/// Withholds from `config` (plugin `plugin`'s, as pocket.toml, the
/// environment and the workflow give it) every entry, at any depth, whose
/// key looks secret and whose path `permissions` does not allow.
pub(crate) fn withhold_secrets(plugin: &str, config: &mut Map, permissions: &Permissions) {
    if config
        .iter()
        .any(|(key, value)| looks_secret(key) || holds_secret_key(value))
    {
        withhold_in_map(plugin, config, Some(""), 0, permissions);
    }
}

/// Whether `value` holds an object with a key that looks secret, at any
/// depth. Iterative: safe at any depth, and nothing is copied when no key
/// needs withholding.
fn holds_secret_key(value: &Value) -> bool {
    let mut pending = vec![value];
    while let Some(value) = pending.pop() {
        match value {
            Value::Object(map) => {
                if map.iter().any(|(key, _)| looks_secret(key)) {
                    return true;
                }
                pending.extend(map.iter().map(|(_, v)| v));
            }
            Value::Array(items) => pending.extend(items.iter()),
            _ => {}
        }
    }
    false
}

/// How many levels deep a grant can name a secret-looking key. Below that a
/// secret-looking key is withheld whatever is granted, and no dotted path
/// is built: building every level's path (and looking for secrets below
/// every level) would cost a deep value its depth squared.
const MAX_NAMED_DEPTH: usize = 32;

/// Withholds from `map`, found at `path` (`None` below [`MAX_NAMED_DEPTH`])
/// `depth` levels down, what `permissions` does not allow.
fn withhold_in_map(plugin: &str, map: &mut Map, path: Option<&str>, depth: usize, permissions: &Permissions) {
    map.retain(|key, value| {
        let key_path = path.filter(|_| depth < MAX_NAMED_DEPTH).map(|prefix| match prefix {
            "" => key.to_string(),
            prefix => format!("{prefix}.{key}"),
        });
        let allowed = key_path
            .as_deref()
            .is_some_and(|p| permissions.refusal(Request::Config { key: p }).is_none());
        if allowed {
            return true;
        }
        if looks_secret(key) {
            let shown = key_path.as_deref().unwrap_or(key);
            tracing::debug!(
                plugin,
                key = shown,
                "secret config key withheld: no `config:{shown}` granted and declared"
            );
            return false;
        }
        withhold_in_value(plugin, value, key_path.as_deref(), depth + 1, permissions);
        true
    });
}

fn withhold_in_value(plugin: &str, value: &mut Value, path: Option<&str>, depth: usize, permissions: &Permissions) {
    // Above the named depth, leave (and do not copy) what holds no secret;
    // below it, one pass copies what it must.
    if depth <= MAX_NAMED_DEPTH && !holds_secret_key(value) {
        return;
    }
    pocket_value::with_stack(|| match value {
        Value::Object(object) => withhold_in_map(plugin, object.make_mut(), path, depth, permissions),
        Value::Array(items) => {
            for (i, item) in items.make_mut().iter_mut().enumerate() {
                let item_path = path.filter(|_| depth < MAX_NAMED_DEPTH).map(|p| format!("{p}.{i}"));
                withhold_in_value(plugin, item, item_path.as_deref(), depth + 1, permissions);
            }
        }
        _ => {}
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::permissions::Capability;

    fn seen(config: &str, granted: &[&str], declared: Option<&[&str]>) -> Value {
        let parse = |list: &[&str]| Capability::parse_list(list).unwrap();
        let mut permissions = Permissions::new(parse(granted));
        if let Some(declared) = declared {
            permissions = permissions.declared_by(&parse(declared));
        }
        let Value::Object(object) = Value::from_json(config).unwrap() else {
            panic!("an object")
        };
        let mut map = Map::clone(&object);
        withhold_secrets("p", &mut map, &permissions);
        Value::from(map)
    }

    const NESTED: &str =
        r#"{"host": "db", "database": {"user": "u", "password": "p1", "pool": [{"token": "t"}, 3]}, "api_key": "k"}"#;

    #[test]
    fn secret_keys_are_withheld_at_any_depth() {
        assert_eq!(
            seen(NESTED, &["log"], Some(&["log"])).to_json(),
            r#"{"host":"db","database":{"user":"u","pool":[{},3]}}"#
        );
    }

    #[test]
    fn a_grant_matches_the_dotted_path_and_counts_only_when_declared() {
        let both = ["config:database.password", "config:api_key"];
        assert_eq!(
            seen(NESTED, &both, Some(&both)).to_json(),
            r#"{"host":"db","database":{"user":"u","password":"p1","pool":[{},3]},"api_key":"k"}"#
        );
        let everything = seen(NESTED, &["config:*"], Some(&["config:*"]));
        assert_eq!(everything, Value::from_json(NESTED).unwrap());
        let undeclared = seen(NESTED, &["config:*"], Some(&["log"]));
        assert_eq!(
            undeclared,
            seen(NESTED, &["log"], Some(&["log"])),
            "a grant alone gives nothing"
        );
        let narrowed = seen(NESTED, &["config:*"], Some(&["config:api_key"]));
        assert_eq!(
            narrowed.to_json(),
            r#"{"host":"db","database":{"user":"u","pool":[{},3]},"api_key":"k"}"#
        );
        let built_in = seen(NESTED, &["config:database.pool.0.token"], None);
        assert_eq!(
            built_in.to_json(),
            r#"{"host":"db","database":{"user":"u","pool":[{"token":"t"},3]}}"#
        );
    }

    #[test]
    fn a_secret_deep_below_what_a_grant_can_name_is_withheld_in_one_pass() {
        // 100,000 levels with a secret at the bottom: looking for secrets
        // below every level, or building every level's path, would take
        // the depth squared.
        let depth = 100_000;
        let deep = format!(
            r#"{{"top": {}{{"password": "p"}}{}}}"#,
            r#"{"a": "#.repeat(depth),
            "}".repeat(depth)
        );
        let any_password = ["config:*password"];
        let seen_deep = seen(&deep, &any_password, Some(&any_password));
        let mut value = seen_deep.get("top").unwrap();
        for _ in 0..depth {
            value = value.get("a").unwrap();
        }
        assert_eq!(value.to_json(), "{}", "withheld however it is granted");
        let shallow = seen(NESTED, &any_password, Some(&any_password));
        assert_eq!(
            shallow.to_json(),
            r#"{"host":"db","database":{"user":"u","password":"p1","pool":[{},3]}}"#,
            "a nameable one is granted"
        );
    }

    #[test]
    fn a_config_without_secrets_is_left_as_it_is() {
        let plain = r#"{"a": {"b": [1, {"c": 2}]}}"#;
        assert_eq!(seen(plain, &[], Some(&[])), Value::from_json(plain).unwrap());
    }
}
