//! The workflow file as written: the Go Pocket engine's format, read from
//! YAML, JSON or TOML. [`crate::parse`] produces it; [`crate::validate`]
//! turns it into an executable [`crate::Graph`].

use std::collections::BTreeMap;
use std::time::Duration;

use pocket_value::Value;
use serde::Deserialize;

use crate::config_positions::ConfigPlaces;
use crate::duration::{deserialize_duration, deserialize_opt_duration};
use crate::location::Located;

/// A workflow file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkflowFile {
    /// The workflow's name.
    pub name: Located<String>,
    /// What it does.
    #[serde(default)]
    pub description: Option<String>,
    /// The author's version string.
    #[serde(default)]
    pub version: Option<Value>,
    /// Free-form metadata, kept but not interpreted.
    #[serde(default)]
    pub metadata: Option<Value>,
    /// The first node to run.
    #[serde(default)]
    pub start: Option<Located<String>>,
    /// The nodes.
    #[serde(default)]
    pub nodes: Vec<NodeSpec>,
    /// Edges between nodes.
    #[serde(default)]
    pub connections: Vec<ConnectionSpec>,
    /// The run's key-value store settings.
    #[serde(default)]
    pub store: Option<StoreSpec>,
    /// Per-plugin config overriding pocket.toml for this workflow.
    #[serde(default)]
    pub plugins: BTreeMap<String, Value>,
    /// The loop guard: a run fails after this many node executions (default 10,000).
    #[serde(default)]
    pub max_steps: Option<u64>,
    /// What starts the workflow under `pocket serve` (webhooks, cron schedules).
    #[serde(default)]
    pub triggers: Vec<crate::triggers::TriggerSpec>,
    /// The file this workflow was read from, if any.
    #[serde(skip)]
    pub source: Option<std::path::PathBuf>,
    /// Where each node's config values are written (YAML text only), by
    /// node index: changing `nodes` after parsing leaves them stale.
    #[serde(skip)]
    pub config_places: ConfigPlaces,
}

/// A node of a workflow file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodeSpec {
    /// Unique name within the workflow.
    pub name: Located<String>,
    /// The node type: `type` or `plugin/type`.
    #[serde(rename = "type")]
    pub node_type: Located<String>,
    /// What this node is for.
    #[serde(default)]
    pub description: Option<String>,
    /// The node's configuration; strings may hold templates.
    #[serde(default)]
    pub config: Option<Value>,
    /// Retry policy for failures.
    #[serde(default)]
    pub retry: Option<RetrySpec>,
    /// Time limit per attempt.
    #[serde(default, deserialize_with = "deserialize_opt_duration")]
    pub timeout: Option<Duration>,
    /// Documentation only (the Go engine's input type hint).
    #[serde(default)]
    pub input_type: Option<Value>,
    /// Documentation only (the Go engine's output type hint).
    #[serde(default)]
    pub output_type: Option<Value>,
    /// Edges written on the node.
    #[serde(default)]
    pub successors: Vec<SuccessorSpec>,
}

/// An edge in the `connections` list.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConnectionSpec {
    /// Source node.
    pub from: Located<String>,
    /// Target node.
    pub to: Located<String>,
    /// The action that selects this edge (absent: `default`).
    #[serde(default)]
    pub action: Option<String>,
    /// Synonym of `action`, as some Go engine files write it.
    #[serde(default)]
    pub when: Option<String>,
}

/// An edge written on its source node.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SuccessorSpec {
    /// The action that selects this edge (absent: `default`).
    #[serde(default)]
    pub action: Option<String>,
    /// Target node.
    pub target: Located<String>,
}

/// How often and how patiently to retry a failing node.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetrySpec {
    /// Attempts in all, including the first (default 3).
    #[serde(default = "default_max_attempts")]
    pub max_attempts: u32,
    /// Wait before the second attempt (default 100ms).
    #[serde(default = "default_delay", deserialize_with = "deserialize_duration")]
    pub delay: Duration,
    /// Factor applied to the wait after each attempt (default 2).
    #[serde(default = "default_multiplier")]
    pub multiplier: f64,
    /// Upper bound on the wait (default 30s).
    #[serde(default = "default_max_delay", deserialize_with = "deserialize_duration")]
    pub max_delay: Duration,
}

fn default_max_attempts() -> u32 {
    3
}
fn default_delay() -> Duration {
    Duration::from_millis(100)
}
fn default_multiplier() -> f64 {
    2.0
}
fn default_max_delay() -> Duration {
    Duration::from_secs(30)
}

impl RetrySpec {
    /// The wait before attempt `attempt + 1`, after `attempt` failures (1-based).
    pub fn delay_after(&self, attempt: u32) -> Duration {
        let factor = self
            .multiplier
            .max(1.0)
            .powi(attempt.saturating_sub(1).min(64).cast_signed());
        self.delay.mul_f64(factor.min(1e9)).min(self.max_delay)
    }
}

/// The `store:` block: limits of the run's key-value store.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoreSpec {
    /// Most entries kept; the oldest is evicted beyond it.
    #[serde(default)]
    pub max_entries: Option<usize>,
    /// How long an entry lives.
    #[serde(default, deserialize_with = "deserialize_opt_duration")]
    pub ttl: Option<Duration>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_delays_grow_by_the_multiplier_up_to_the_cap() {
        let retry = RetrySpec {
            max_attempts: 5,
            delay: Duration::from_millis(100),
            multiplier: 2.0,
            max_delay: Duration::from_millis(300),
        };
        assert_eq!(retry.delay_after(1), Duration::from_millis(100));
        assert_eq!(retry.delay_after(2), Duration::from_millis(200));
        assert_eq!(retry.delay_after(3), Duration::from_millis(300));
        assert_eq!(retry.delay_after(60), Duration::from_millis(300));
    }
}
