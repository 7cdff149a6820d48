//! Plugin-to-plugin calls through the real binary: a chain across Lua, WASM
//! and native plugins, its depth limit, `plugin_call:` grants and
//! declarations, a name that would impersonate a built-in, the rate limit,
//! and the callee's own identity.

use serde_json::{Value, json};

use crate::deployment::{Deployment, workflow};
use crate::libraries;
use crate::{exec, wasm_test_guest};

/// A Lua plugin whose node `relay` calls `input[1]` with the rest of the list.
const LUA_RELAY: &str = r#"
return {
  name = 'lua-relay', version = '1.0.0',
  permissions = { 'plugin_call:*' },
  nodes = {
    relay = { exec = function(input)
      if #input == 0 then return 0 end
      local rest = json.array()
      for i = 2, #input do rest[#rest + 1] = input[i] end
      local out, err = nodes.call(input[1], rest, {})
      if err then error(err, 0) end
      return out + 1
    end },
  },
}
"#;

/// A deployment holding the three relays (`lua-relay/relay`, `relay/relay`
/// (WASM), `host-calls/relay` (native)), with `grants` as pocket.toml's
/// `[plugins.permissions]` lines.
fn relays(grants: &str) -> Deployment {
    let d = Deployment::new(&["plugins"], &format!("[plugins.permissions]\n{grants}"));
    d.write("plugins/lua-relay.lua", LUA_RELAY);
    std::fs::copy(wasm_test_guest("relay"), d.path("plugins/relay.wasm")).unwrap();
    let native = libraries::library("pocket-native-fixture-host-calls");
    std::fs::copy(native, d.path("plugins/host-calls.so")).unwrap();
    d
}

const ALL_GRANTED: &str =
    "lua-relay = [\"plugin_call:*\"]\nrelay = [\"plugin_call:*\"]\nhost-calls = [\"plugin_call:*\"]\n";

/// Runs `node_type` once on `input`: its output, or the error text.
fn call(d: &Deployment, node_type: &str, input: &Value) -> Result<Value, String> {
    let flow = workflow(d, node_type);
    let out = exec(d.pocket().arg("run").arg(flow).arg("--input").arg(input.to_string()));
    match out.code {
        0 => Ok(serde_json::from_str(&out.stdout).unwrap()),
        _ => Err(out.stderr),
    }
}

/// A chain of `hops` calls cycling through the three kinds.
fn chain(hops: usize) -> Value {
    let kinds = ["relay/relay", "host-calls/relay", "lua-relay/relay"];
    Value::from((0..hops).map(|i| kinds[i % 3]).collect::<Vec<_>>())
}

#[test]
fn a_chain_of_ten_calls_across_lua_wasm_and_native_runs_and_an_eleventh_is_refused() {
    let d = relays(ALL_GRANTED);
    assert_eq!(call(&d, "lua-relay/relay", &chain(10)), Ok(json!(10)));
    let err = call(&d, "lua-relay/relay", &chain(11)).unwrap_err();
    assert!(
        err.contains("calls are nested 10 deep already") && err.contains("max_call_depth"),
        "{err}"
    );
    // Every kind can start a chain, and the host is fine after the refusal.
    assert_eq!(call(&d, "relay/relay", &chain(4)), Ok(json!(4)));
    assert_eq!(call(&d, "host-calls/relay", &chain(4)), Ok(json!(4)));
    // `plugin_call:*` reaches every plugin's types, never Pocket's own
    // (unsandboxed, or under grants of their own, as the inline `lua` node
    // is): those need a grant naming their plugin.
    for (builtin, full) in [
        ("exec", "builtin/exec"),
        ("builtin/file", "builtin/file"),
        ("http", "builtin/http"),
        ("lua", "lua/lua"),
    ] {
        let err = call(&d, "lua-relay/relay", &json!([builtin])).unwrap_err();
        assert!(
            err.contains(&format!("permission denied: plugin_call:{full}")),
            "{builtin}: {err}"
        );
    }
}

#[test]
fn max_call_depth_in_pocket_toml_moves_the_limit() {
    let d = relays(ALL_GRANTED);
    let toml = std::fs::read_to_string(d.path("pocket.toml")).unwrap();
    let toml = toml.replace("[plugins]\n", "[plugins]\nmax_call_depth = 2\n");
    std::fs::write(d.path("pocket.toml"), toml).unwrap();
    assert_eq!(call(&d, "lua-relay/relay", &chain(2)), Ok(json!(2)));
    let err = call(&d, "lua-relay/relay", &chain(3)).unwrap_err();
    assert!(err.contains("nested 2 deep"), "{err}");
}

#[test]
fn a_call_needs_a_grant_matching_the_full_name_of_its_target() {
    let d = relays("lua-relay = [\"plugin_call:relay/*\"]\nrelay = [\"plugin_call:*\"]\n");
    assert_eq!(call(&d, "lua-relay/relay", &json!(["relay/relay"])), Ok(json!(1)));
    let err = call(&d, "lua-relay/relay", &json!(["host-calls/relay"])).unwrap_err();
    assert!(
        err.contains("permission denied: plugin_call:host-calls/relay")
            && err.contains("pocket.toml does not grant it"),
        "{err}"
    );
    // A bare name is checked as the type it resolves to: `exec` is the
    // built-in, whatever pattern the grant names.
    let err = call(&d, "lua-relay/relay", &json!(["exec"])).unwrap_err();
    assert!(err.contains("permission denied: plugin_call:builtin/exec"), "{err}");
    // Granted but not declared: the native fixture's grant covers the call,
    // the Lua script below declares nothing.
    d.write(
        "plugins/undeclared.lua",
        "return { name = 'undeclared', version = '1.0.0', nodes = { go = { exec = function(input) \
         local out, err = nodes.call('relay/relay', {}, {}) if err then error(err, 0) end return out end } } }",
    );
    let toml = std::fs::read_to_string(d.path("pocket.toml")).unwrap();
    std::fs::write(
        d.path("pocket.toml"),
        format!("{toml}undeclared = [\"plugin_call:*\"]\n"),
    )
    .unwrap();
    let err = call(&d, "undeclared/go", &json!(null)).unwrap_err();
    assert!(
        err.contains("permission denied: plugin_call:relay/relay") && err.contains("does not declare it"),
        "{err}"
    );
}

#[test]
fn a_flood_of_calls_stops_at_the_rate_limit_and_the_callee_keeps_its_own_identity() {
    let d = relays("flood = [\"plugin_call:*\", \"kv\"]\nrelay = [\"plugin_call:*\"]\n");
    d.write(
        "plugins/flood.lua",
        "return { name = 'flood', version = '1.0.0', permissions = { 'plugin_call:*', 'kv' }, nodes = { \
         go = { exec = function(input) \
           local made, refused = 0, nil \
           for i = 1, 100 do \
             local out, err = nodes.call('relay/relay', json.array(), {}) \
             if err then refused = err break end \
             made = made + 1 \
           end \
           return { made = made, refused = refused } \
         end }, \
         mine = { exec = function(input) \
           kv.set('secret', 'flood-only') \
           local out, err = nodes.call('lua-relay/peek', {}, {}) \
           return { own = kv.get('secret'), callee = out, err = err } \
         end } } }",
    );
    let toml = std::fs::read_to_string(d.path("pocket.toml")).unwrap();
    std::fs::write(
        d.path("pocket.toml"),
        format!(
            "{toml}lua-relay = [\"plugin_call:*\", \"kv\"]\n[plugins.limits.flood]\nplugin_calls_per_second = 20\n"
        ),
    )
    .unwrap();
    let out = call(&d, "flood/go", &json!(null)).unwrap();
    assert_eq!(out["made"], json!(20), "{out}");
    let refused = out["refused"].as_str().unwrap_or_default();
    assert!(
        refused.contains("rate limit exceeded") && refused.contains("plugin_calls_per_second"),
        "{out}"
    );

    // The callee runs as itself: the caller's kv keys are not its keys.
    d.write(
        "plugins/lua-relay.lua",
        &LUA_RELAY
            .replace(
                "permissions = { 'plugin_call:*' },",
                "permissions = { 'plugin_call:*', 'kv' },",
            )
            .replace(
                "  nodes = {\n",
                "  nodes = {\n    peek = { exec = function() return { seen = kv.get('secret') or 'nothing' } end },\n",
            ),
    );
    let out = call(&d, "flood/mine", &json!(null)).unwrap();
    assert_eq!(
        out,
        json!({"own": "flood-only", "callee": {"seen": "nothing"}}),
        "{out}"
    );
}

#[test]
fn a_native_plugin_under_process_isolation_makes_its_calls_through_the_host() {
    let d = relays(&format!("{ALL_GRANTED}[plugins.isolation]\nhost-calls = \"process\"\n"));
    assert_eq!(call(&d, "host-calls/relay", &chain(7)), Ok(json!(7)));
    let err = call(&d, "lua-relay/relay", &chain(11)).unwrap_err();
    assert!(err.contains("calls are nested 10 deep already"), "{err}");
}
