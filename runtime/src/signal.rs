//! Waiting for the signals that ask a process to stop.
//!
//! Both functions install their handlers before they return, so a signal
//! sent any time after the call is seen, even before the future they give
//! is first polled: call them before saying "ready" (a test or a
//! supervisor acts on that word at once). Call them inside a tokio runtime.

use std::future::Future;

/// Resolves on SIGTERM or Ctrl-C: when `pocket serve`, a worker or an
/// embedding program that runs until told to stop should begin to drain.
pub fn shutdown_signal() -> impl Future<Output = ()> + Send + 'static {
    #[cfg(unix)]
    {
        use tokio::signal::unix::SignalKind;
        first_of(&[SignalKind::terminate(), SignalKind::interrupt()])
    }
    #[cfg(not(unix))]
    {
        ctrl_c()
    }
}

/// Resolves on Ctrl-C (SIGINT): when a run in the foreground should be
/// cancelled.
pub fn interrupt_signal() -> impl Future<Output = ()> + Send + 'static {
    #[cfg(unix)]
    {
        first_of(&[tokio::signal::unix::SignalKind::interrupt()])
    }
    #[cfg(not(unix))]
    {
        ctrl_c()
    }
}

/// Listens for each of `kinds` from now on; resolves on the first to arrive.
/// A signal whose handler cannot be installed is said once and not waited
/// for (with none left, the future never resolves: the process is then
/// stopped the hard way, as it would be without a handler).
#[cfg(unix)]
fn first_of(kinds: &[tokio::signal::unix::SignalKind]) -> impl Future<Output = ()> + Send + use<> {
    let mut listeners: Vec<_> = kinds
        .iter()
        .filter_map(|&kind| match tokio::signal::unix::signal(kind) {
            Ok(listener) => Some(listener),
            Err(error) => {
                tracing::warn!("cannot watch for signal {}: {error}", kind.as_raw_value());
                None
            }
        })
        .collect();
    std::future::poll_fn(move |cx| {
        if listeners.iter_mut().any(|listener| listener.poll_recv(cx).is_ready()) {
            std::task::Poll::Ready(())
        } else {
            std::task::Poll::Pending
        }
    })
}

/// Ctrl-C where there are no Unix signals (its handler is installed on
/// first poll).
#[cfg(not(unix))]
fn ctrl_c() -> impl Future<Output = ()> + Send + 'static {
    async {
        let _ = tokio::signal::ctrl_c().await;
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_signal_sent_before_the_first_poll_is_not_missed() {
        let interrupted = interrupt_signal();
        // This process sends itself Ctrl-C; tokio's handler, installed by
        // `interrupt_signal`, only records it.
        let sent = std::process::Command::new("kill")
            .args(["-INT", &std::process::id().to_string()])
            .status()
            .unwrap();
        assert!(sent.success());
        tokio::time::timeout(std::time::Duration::from_secs(60), interrupted)
            .await
            .expect("the signal was missed");
    }
}
