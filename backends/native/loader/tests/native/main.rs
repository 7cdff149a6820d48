//! The native backend driven through its real loader and core's real parser,
//! validator and runner, with the workspace's example plugins and fixtures
//! built as dynamic libraries.

mod calls;
mod common;
mod host_calls;
mod loading;
mod redis;

use pocket_test_support::{libraries, redis_server};
