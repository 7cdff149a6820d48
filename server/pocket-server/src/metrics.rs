//! The server's Prometheus metrics (`GET /metrics`, OpenMetrics text).

use std::collections::BTreeMap;
use std::sync::Mutex;

use pocket_core::{NodeError, TraceEntry};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RunLabels {
    workflow: String,
    status: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct NodeLabels {
    plugin: String,
    node_type: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabels {
    plugin: String,
    node_type: String,
    outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct LimitLabels {
    plugin: String,
    node_type: String,
    limit: String,
}

type Histograms = Family<NodeLabels, Histogram, fn() -> Histogram>;

/// Every metric the server keeps.
pub struct Metrics {
    registry: Registry,
    runs: Family<RunLabels, Counter>,
    running: Gauge,
    queued: Gauge,
    node_executions: Family<OutcomeLabels, Counter>,
    limit_hits: Family<LimitLabels, Counter>,
    node_seconds: Histograms,
    plugins: Mutex<BTreeMap<String, PluginStats>>,
}

/// One plugin's node executions, for the web page and `GET /v1/plugins`.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct PluginStats {
    /// Node executions.
    pub calls: u64,
    /// Those that failed.
    pub errors: u64,
    /// Those a resource limit stopped.
    pub limit_hits: u64,
    /// Their mean duration, in milliseconds.
    pub mean_ms: f64,
}

fn latency_histogram() -> Histogram {
    // 50 us to about 105 s.
    Histogram::new(exponential_buckets(0.000_05, 4.0, 12))
}

impl Metrics {
    /// The metrics, registered under `pocket_`.
    pub fn new() -> Metrics {
        let mut registry = Registry::with_prefix("pocket");
        let runs = Family::<RunLabels, Counter>::default();
        registry.register("runs", "Runs finished, by workflow and final status", runs.clone());
        let running = Gauge::default();
        registry.register("runs_running", "Runs executing now", running.clone());
        let queued = Gauge::default();
        registry.register("runs_queued", "Runs waiting for a slot", queued.clone());
        let node_executions = Family::<OutcomeLabels, Counter>::default();
        registry.register(
            "node_executions",
            "Node executions (after retries), by plugin, node type and outcome (ok, error)",
            node_executions.clone(),
        );
        let limit_hits = Family::<LimitLabels, Counter>::default();
        registry.register(
            "node_limit_hits",
            "Node executions stopped by a resource limit, by plugin, node type and limit",
            limit_hits.clone(),
        );
        let node_seconds: Histograms = Family::new_with_constructor(latency_histogram);
        registry.register(
            "node_duration_seconds",
            "Node execution time, retries included, by plugin and node type",
            node_seconds.clone(),
        );
        Metrics {
            registry,
            runs,
            running,
            queued,
            node_executions,
            limit_hits,
            node_seconds,
            plugins: Mutex::default(),
        }
    }

    /// Every plugin's node executions so far, by plugin.
    pub fn plugin_stats(&self) -> BTreeMap<String, PluginStats> {
        self.plugins
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// A run was accepted and waits for a slot.
    pub fn queued(&self) {
        self.queued.inc();
    }

    /// A queued run got its slot.
    pub fn started(&self) {
        self.queued.dec();
        self.running.inc();
    }

    /// A run ended with `status`; `was_running` if it had started.
    pub fn finished(&self, workflow: &str, status: &str, was_running: bool) {
        if was_running {
            self.running.dec();
        } else {
            self.queued.dec();
        }
        self.runs
            .get_or_create(&RunLabels {
                workflow: workflow.to_string(),
                status: status.to_string(),
            })
            .inc();
    }

    /// A node execution finished.
    pub fn node(&self, entry: &TraceEntry, error: Option<&NodeError>) {
        let node = NodeLabels {
            plugin: entry.plugin.to_string(),
            node_type: entry.node_type.to_string(),
        };
        self.node_seconds
            .get_or_create(&node)
            .observe(entry.duration.as_secs_f64());
        let outcome = if error.is_some() { "error" } else { "ok" };
        self.node_executions
            .get_or_create(&OutcomeLabels {
                plugin: node.plugin.clone(),
                node_type: node.node_type.clone(),
                outcome: outcome.to_string(),
            })
            .inc();
        let limit = match error {
            Some(NodeError::LimitExceeded { limit, .. }) => Some(limit.to_string()),
            Some(NodeError::Timeout(_)) => Some("timeout".to_string()),
            _ => None,
        };
        {
            let mut plugins = self.plugins.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            let stats = plugins.entry(node.plugin.clone()).or_default();
            let total_ms = stats.mean_ms * stats.calls as f64 + entry.duration.as_secs_f64() * 1000.0;
            stats.calls += 1;
            stats.errors += u64::from(error.is_some());
            stats.limit_hits += u64::from(limit.is_some());
            stats.mean_ms = total_ms / stats.calls as f64;
        }
        if let Some(limit) = limit {
            self.limit_hits
                .get_or_create(&LimitLabels {
                    plugin: node.plugin,
                    node_type: node.node_type,
                    limit,
                })
                .inc();
        }
    }

    /// The OpenMetrics text of every metric.
    pub fn encode(&self) -> String {
        let mut text = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut text, &self.registry);
        text
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use pocket_core::Limit;

    use super::*;

    fn entry(plugin: &str, node_type: &str) -> TraceEntry {
        TraceEntry {
            node: Arc::from("n"),
            node_type: node_type.into(),
            plugin: Arc::from(plugin),
            started: Duration::ZERO,
            duration: Duration::from_millis(3),
            attempts: 1,
            action: None,
            error: None,
        }
    }

    #[test]
    fn runs_nodes_and_limit_hits_are_counted_by_their_labels() {
        let metrics = Metrics::new();
        metrics.queued();
        metrics.started();
        metrics.finished("orders", "succeeded", true);
        metrics.node(&entry("json-tools", "json-tools/echo-json"), None);
        let fuel = NodeError::LimitExceeded {
            limit: Limit::Fuel,
            detail: "x".into(),
        };
        metrics.node(&entry("loop", "loop/spin"), Some(&fuel));
        let text = metrics.encode();
        let loop_stats = &metrics.plugin_stats()["loop"];
        assert_eq!((loop_stats.calls, loop_stats.errors, loop_stats.limit_hits), (1, 1, 1));
        assert!((loop_stats.mean_ms - 3.0).abs() < 1e-9);
        for line in [
            r#"pocket_runs_total{workflow="orders",status="succeeded"} 1"#,
            "pocket_runs_running 0",
            "pocket_runs_queued 0",
            r#"pocket_node_executions_total{plugin="json-tools",node_type="json-tools/echo-json",outcome="ok"} 1"#,
            r#"pocket_node_executions_total{plugin="loop",node_type="loop/spin",outcome="error"} 1"#,
            r#"pocket_node_limit_hits_total{plugin="loop",node_type="loop/spin",limit="fuel"} 1"#,
            r#"pocket_node_duration_seconds_count{plugin="json-tools",node_type="json-tools/echo-json"} 1"#,
        ] {
            assert!(text.contains(line), "no `{line}` in:\n{text}");
        }
    }
}
