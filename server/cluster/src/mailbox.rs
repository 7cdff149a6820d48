//! Results arriving for one run: a watch on the run's keys in the results
//! bucket, handing each result to the attempt waiting for it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use async_nats::jetstream::kv;
use bytes::Bytes;
use futures_util::StreamExt;
use tokio::sync::oneshot;
use tokio_util::sync::{CancellationToken, DropGuard};

use crate::error::ClusterError;

/// Results of one run as they are stored, for the attempts awaiting them.
pub(crate) struct Mailbox {
    slots: Arc<Mutex<Slots>>,
    _watch: DropGuard,
}

#[derive(Default)]
struct Slots {
    /// Results no attempt asked for yet.
    arrived: HashMap<String, Bytes>,
    /// Attempts waiting, by key.
    waiting: HashMap<String, oneshot::Sender<Bytes>>,
    /// The watch ended: nothing more will arrive.
    closed: bool,
}

impl Mailbox {
    /// Starts watching `run`'s results; the watch ends when the mailbox is dropped.
    pub(crate) async fn open(results: &kv::Store, run: &str) -> Result<Mailbox, ClusterError> {
        let pattern = format!("{run}.>");
        let watch = watch(results, &pattern).await?;
        let slots = Arc::new(Mutex::new(Slots::default()));
        let stop = CancellationToken::new();
        let (results, task_slots, task_stop) = (results.clone(), slots.clone(), stop.clone());
        tokio::spawn(async move {
            let mut watch = Some(watch);
            while !task_stop.is_cancelled() {
                if let Some(current) = watch.take() {
                    follow(current, &task_slots, &task_stop).await;
                    continue;
                }
                // The watch broke (the connection went away): watch again,
                // then read what was stored meanwhile for the attempts waiting.
                tokio::select! {
                    () = tokio::time::sleep(Duration::from_millis(250)) => {}
                    () = task_stop.cancelled() => break,
                }
                match self::watch(&results, &pattern).await {
                    Ok(renewed) => {
                        watch = Some(renewed);
                        catch_up(&results, &task_slots).await;
                    }
                    Err(error) => tracing::warn!(%error, "cannot watch a run's results again yet"),
                }
            }
            let mut slots = task_slots.lock().unwrap_or_else(PoisonError::into_inner);
            slots.closed = true;
            slots.waiting.clear();
        });
        Ok(Mailbox {
            slots,
            _watch: stop.drop_guard(),
        })
    }

    /// The result stored under `key`, as soon as it arrives; an error if
    /// the watch ended first.
    pub(crate) fn expect(&self, key: &str) -> oneshot::Receiver<Bytes> {
        let (send, receive) = oneshot::channel();
        let mut slots = self.slots.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(value) = slots.arrived.remove(key) {
            let _ = send.send(value);
        } else if !slots.closed {
            slots.waiting.insert(key.to_string(), send);
        }
        receive
    }

    /// Stops waiting for `key` (its attempt was answered another way or cancelled).
    pub(crate) fn forget(&self, key: &str) {
        let mut slots = self.slots.lock().unwrap_or_else(PoisonError::into_inner);
        slots.waiting.remove(key);
        slots.arrived.remove(key);
    }
}

async fn watch(results: &kv::Store, pattern: &str) -> Result<kv::Watch, ClusterError> {
    results
        .watch(pattern)
        .await
        .map_err(|e| ClusterError::jetstream("watch a run's results", e))
}

/// Delivers what `watch` brings until it ends or fails, or `stop` fires.
async fn follow(mut watch: kv::Watch, slots: &Mutex<Slots>, stop: &CancellationToken) {
    loop {
        let entry = tokio::select! {
            entry = watch.next() => entry,
            () = stop.cancelled() => return,
        };
        match entry {
            Some(Ok(entry)) if entry.operation == kv::Operation::Put => deliver(slots, entry.key, entry.value),
            Some(Ok(_)) => {}
            Some(Err(error)) => {
                tracing::warn!(%error, "the results watch failed");
                return;
            }
            None => return,
        }
    }
}

/// Reads the stored results of every attempt still waiting.
async fn catch_up(results: &kv::Store, slots: &Mutex<Slots>) {
    let keys: Vec<String> = {
        let slots = slots.lock().unwrap_or_else(PoisonError::into_inner);
        slots.waiting.keys().cloned().collect()
    };
    for key in keys {
        if let Ok(Some(value)) = results.get(&key).await {
            deliver(slots, key, value);
        }
    }
}

fn deliver(slots: &Mutex<Slots>, key: String, value: Bytes) {
    let mut slots = slots.lock().unwrap_or_else(PoisonError::into_inner);
    match slots.waiting.remove(&key) {
        Some(waiter) => {
            let _ = waiter.send(value);
        }
        None => {
            slots.arrived.insert(key, value);
        }
    }
}
