//! `pocket`: run workflows and manage plugins.
//!
//! The binary only wires things together: it parses arguments, assembles the
//! host (config, registry, plugins), calls into the libraries and reports
//! their errors for humans.

#![forbid(unsafe_code)]

mod cli;
mod commands;
mod deployment;
mod input;
mod remote;
mod report;

use std::process::ExitCode;

use clap::Parser;

/// Each thread's allocations are counted, so that a library whose values
/// Pocket cannot weigh (jq's) is stopped at its memory limit.
#[global_allocator]
static ALLOCATOR: pocket_core::thread_memory::CountingAllocator = pocket_core::thread_memory::CountingAllocator;

fn main() -> ExitCode {
    let args = cli::Cli::parse();
    init_logging();
    match commands::dispatch(args) {
        Ok(code) => code,
        Err(error) => {
            report::error(&error);
            ExitCode::FAILURE
        }
    }
}

/// Logs go to stderr, filtered by `POCKET_LOG` (e.g. `debug`, `pocket_core=trace`); default `warn`.
fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("POCKET_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_target(false)
        .init();
}
