//! The Lua backend driven through core's real parser, validator and runner.

mod common;
mod examples;
mod host_api;
mod limits;
mod lua_node;
mod plugins;
mod sandbox;
