//! Running a Lua call without stalling tokio (see [`pocket_core::run_blocking`]):
//! a call that moved to a blocking thread and was abandoned (a runner
//! timeout) stops at the script's next hook tick.

use std::sync::Arc;

use pocket_core::{Execution, run_blocking};

use crate::instance::{CallRequest, Instance};

/// Runs `request` on `instance` in the way that suits the current runtime.
pub(crate) fn execute<'a>(instance: Arc<Instance>, mut request: CallRequest) -> Execution<'a> {
    run_blocking("Lua", move |abandoned| {
        request.watch.abandoned = abandoned.flag();
        instance.call(request)
    })
}
