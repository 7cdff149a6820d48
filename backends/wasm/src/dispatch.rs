//! Running a guest call without stalling tokio (see [`pocket_core::run_blocking`]):
//! guest calls are CPU-bound and block until they return.

use std::sync::Arc;

use pocket_core::{Execution, run_blocking};

use crate::plugin::{CallRequest, Runtime};

/// Runs `request` on `runtime` in the way that suits the current tokio runtime.
pub(crate) fn execute<'a>(runtime: Arc<Runtime>, request: CallRequest) -> Execution<'a> {
    run_blocking("WASM", move |_| runtime.call(&request))
}
