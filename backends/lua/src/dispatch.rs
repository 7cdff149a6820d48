//! Running a Lua call without stalling tokio (see [`pocket_core::run_blocking`]):
//! a call that moved to a blocking thread and was abandoned (a runner
//! timeout) stops at the script's next hook tick.

use std::sync::Arc;

use pocket_core::{Execution, run_blocking};

use crate::runtime::{CallRequest, Runtime};

/// Runs `request` on `runtime` in the way that suits the current tokio runtime.
pub(crate) fn execute<'a>(runtime: Arc<Runtime>, mut request: CallRequest) -> Execution<'a> {
    run_blocking("Lua", move |abandoned| {
        request.watch.abandoned = abandoned.flag();
        runtime.call(request)
    })
}
