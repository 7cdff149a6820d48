//! `redis-cache`: a native Pocket plugin that reads and writes Redis keys,
//! for cache-aside workflows (see `examples/workflows/user-cache.yaml`).
//!
//! Connection settings come from the plugin's config in pocket.toml
//! (`[plugins.config.redis-cache]`, with `${ENV}` expansion) or the
//! workflow's `plugins:` block: `host` (default `127.0.0.1`), `port` (6379),
//! `password` (none when empty), `database` (0) and `timeout_ms` (connect,
//! read and write timeout, 5000). Numbers may be given as strings, as `${ENV}`
//! expansion produces them.
//!
//! Values are stored as JSON text (`format: json`, the default), so objects
//! round-trip; `format: text` stores and returns strings as they are.
//!
//! - `redis-get` (`key`): action `found` with the stored value as output, or
//!   `not_found` with the input passed through (so the next node still sees
//!   the fields it needs to fetch the value).
//! - `redis-set` (`key`, `value` (default: the input), `ttl` seconds): stores
//!   the value and outputs it.
//! - `redis-del` (`key`): outputs `{key, deleted}`.
//!
//! Every node keeps one connection, opened on first use and reopened after a
//! failure; calls are blocking I/O, so Pocket runs them on its blocking pool.

mod connection;
mod nodes;

pub use nodes::plugin;

pocket_native_sdk::export_plugin!(plugin);
