//! The Lua backend driven through core's real parser, validator and runner.

mod common;
mod examples;
mod host_api;
mod host_memory;
mod limits;
mod lua_node;
mod plugins;
mod sandbox;
