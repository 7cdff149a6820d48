//! The WASM backend driven through core's real parser, validator and runner,
//! with `.wat` fixtures in `tests/fixtures`.

mod assemblyscript;
mod cache;
mod capabilities;
mod common;
mod examples;
mod extism;
mod go;
mod guests;
mod javascript;
mod limits;
mod loading;
mod requests;
mod responses;
mod rust_wasi;
mod wasi;
mod zig;
