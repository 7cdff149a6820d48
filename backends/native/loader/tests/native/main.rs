//! The native backend driven through its real loader and core's real parser,
//! validator and runner, with the workspace's example plugins and fixtures
//! built as dynamic libraries.

#[path = "../support/libraries.rs"]
mod libraries;

mod calls;
mod common;
mod host_calls;
mod loading;
mod redis;
#[path = "../support/redis_server.rs"]
mod redis_server;
