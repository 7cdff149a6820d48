//! What a cluster is called in JetStream and how it behaves.

use std::time::Duration;

/// The plugin kinds work is sorted by: each has its own subject
/// (`pocket.jobs.<kind>`) and its own durable consumer.
pub const KINDS: [&str; 4] = ["builtin", "lua", "wasm", "native"];

/// How a scheduler or worker uses the cluster. Everyone on one cluster must
/// use the same `prefix`; the other settings are each side's own.
#[derive(Debug, Clone)]
pub struct ClusterSettings {
    /// Names every stream, bucket and subject (`pocket`: stream
    /// `POCKET_JOBS`, subjects `pocket.jobs.*`, buckets `pocket-results`...).
    pub prefix: String,
    /// Values (inputs, configs, results) whose JSON is larger than this go
    /// to the blob store; messages carry a reference. NATS refuses messages
    /// over its `max_payload` (1 MiB by default).
    pub inline_limit: usize,
    /// A scheduler starts no new run while the work queue holds more
    /// attempts than this (backpressure).
    pub max_queue_depth: u64,
    /// How long results, run records and blobs are kept.
    pub retention: Duration,
    /// How long a delivered attempt may go without an ack or a progress
    /// signal before JetStream gives it to another worker (set when the
    /// consumers are created, by the first worker).
    pub ack_wait: Duration,
    /// How many times one attempt is delivered at most.
    pub max_deliver: i64,
}

impl Default for ClusterSettings {
    fn default() -> Self {
        ClusterSettings {
            prefix: "pocket".into(),
            inline_limit: 256 * 1024,
            max_queue_depth: 10_000,
            retention: Duration::from_secs(24 * 3600),
            ack_wait: Duration::from_secs(30),
            max_deliver: 5,
        }
    }
}

impl ClusterSettings {
    pub(crate) fn stream(&self) -> String {
        format!("{}_JOBS", self.prefix.to_uppercase())
    }

    pub(crate) fn subject(&self, kind: &str) -> String {
        format!("{}.jobs.{kind}", self.prefix)
    }

    pub(crate) fn consumer(&self, kind: &str) -> String {
        format!("{}-{kind}", self.prefix)
    }

    pub(crate) fn bucket(&self, what: &str) -> String {
        format!("{}-{what}", self.prefix)
    }
}
