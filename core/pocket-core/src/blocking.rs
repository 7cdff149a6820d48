//! Running a blocking, CPU-bound node body (a Lua call, a WASM call, a native
//! library's function) without stalling the runner.
//!
//! On a multi-threaded runtime the body runs in `block_in_place`: the worker
//! hands its other tasks to another thread and runs the body itself, with no
//! thread hop on the call's own path (the cheaper choice, as the backends'
//! benchmarks show). On a current-thread runtime, blocking the only thread
//! would stall every other branch, so the body moves to `spawn_blocking`;
//! dropping the pending result (a runner timeout, a cancelled run) raises the
//! body's [`Abandoned`] flag so it can stop early. Outside any runtime the
//! body simply runs.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use tokio::runtime::{Handle, RuntimeFlavor};

use crate::node::Execution;
use crate::outcome::{NodeError, NodeOutput};

/// Tells a body running on a blocking thread whether anyone still waits for
/// its result. Bodies that run in place are never abandoned.
#[derive(Debug, Clone, Default)]
pub struct Abandoned(Option<Arc<AtomicBool>>);

impl Abandoned {
    /// Whether the caller stopped waiting.
    pub fn is_set(&self) -> bool {
        self.0.as_ref().is_some_and(|flag| flag.load(Ordering::Relaxed))
    }

    /// The shared flag, for bodies that poll it from elsewhere (a VM hook);
    /// `None` when the body runs in place.
    pub fn flag(&self) -> Option<Arc<AtomicBool>> {
        self.0.clone()
    }
}

/// Runs `body` in the way that suits the current tokio runtime (see the
/// module docs). `backend` names the body's kind in the error reported if
/// its blocking thread fails ("the Lua call did not finish").
pub fn run_blocking<'a, F>(backend: &'static str, body: F) -> Execution<'a>
where
    F: FnOnce(Abandoned) -> Result<NodeOutput, NodeError> + Send + 'static,
{
    match Handle::try_current().map(|h| h.runtime_flavor()) {
        Ok(RuntimeFlavor::MultiThread) => Execution::Ready(tokio::task::block_in_place(|| body(Abandoned::default()))),
        Ok(_) => {
            let flag = Arc::new(AtomicBool::new(false));
            let abandoned = Abandoned(Some(flag.clone()));
            let handle = tokio::task::spawn_blocking(move || body(abandoned));
            // Made before the future, so dropping it unpolled raises the flag too.
            let raise_when_dropped = RaiseOnDrop(flag);
            Execution::pending(async move {
                let _raise_when_dropped = raise_when_dropped;
                handle
                    .await
                    .unwrap_or_else(|e| Err(NodeError::Crashed(format!("the {backend} call did not finish: {e}"))))
            })
        }
        Err(_) => Execution::Ready(body(Abandoned::default())),
    }
}

/// Raises the flag when the pending result is dropped or finished.
struct RaiseOnDrop(Arc<AtomicBool>);

impl Drop for RaiseOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::Value;

    fn ok() -> Result<NodeOutput, NodeError> {
        Ok(NodeOutput::new(Value::from(1)))
    }

    #[test]
    fn outside_a_runtime_the_body_runs_in_place() {
        let Execution::Ready(result) = run_blocking("test", |abandoned| {
            assert!(abandoned.flag().is_none());
            ok()
        }) else {
            panic!("expected a ready execution");
        };
        assert_eq!(result.unwrap().output, Value::from(1));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_multi_threaded_runtime_runs_the_body_in_place() {
        let execution = run_blocking("test", |_| ok());
        assert!(matches!(execution, Execution::Ready(Ok(_))));
    }

    #[tokio::test(flavor = "current_thread")]
    async fn a_current_thread_runtime_moves_the_body_and_flags_abandonment() {
        let (seen_tx, seen_rx) = std::sync::mpsc::channel();
        let execution = run_blocking("test", move |abandoned| {
            while !abandoned.is_set() {
                std::thread::sleep(Duration::from_millis(1));
            }
            seen_tx.send(()).unwrap();
            ok()
        });
        assert!(matches!(execution, Execution::Pending(_)));
        drop(execution);
        seen_rx
            .recv_timeout(Duration::from_secs(5))
            .expect("the body saw the flag");
    }

    #[tokio::test(flavor = "current_thread")]
    async fn a_panicking_body_becomes_a_crash() {
        let result = run_blocking("test", |_| panic!("boom")).finish().await;
        assert!(matches!(result, Err(NodeError::Crashed(message)) if message.contains("test call did not finish")));
    }
}
