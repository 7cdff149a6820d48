//! The scheduler's side: each node attempt of a run becomes a job on the
//! work queue, and its result comes back through the results bucket.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use async_nats::HeaderMap;
use async_nats::jetstream::message::PublishMessage;
use bytes::Bytes;
use pocket_core::{BoxFuture, NodeError, NodeExecutor, NodeJob, NodeOutput};
use sha2::{Digest, Sha256};

use crate::artifacts::WorkflowRecord;
use crate::connection::Cluster;
use crate::error::ClusterError;
use crate::mailbox::Mailbox;
use crate::wire;

/// Runs one run's node attempts on the cluster's workers.
///
/// Every attempt has a key, `RUN.STEP.ATTEMPT`, where `STEP` names the
/// execution by its node, a digest of its input, and how many executions of
/// that node with that input came before it in the run. Replaying a run
/// from its start with the same run id therefore meets the same keys in
/// the same places, whatever order its branches finish in: an attempt whose
/// result is stored already is answered from the store, not run again. That
/// is how a restarted scheduler resumes a run.
pub struct ClusterExecutor {
    cluster: Arc<Cluster>,
    run: String,
    workflow: String,
    record: Arc<WorkflowRecord>,
    mailbox: Mailbox,
    steps: Mutex<Steps>,
    /// The run was started before (a resumed run): its attempts may have
    /// results already, so each is looked up before it is sent.
    resuming: bool,
}

#[derive(Default)]
struct Steps {
    /// Executions so far per (node, input digest).
    seen: HashMap<String, u32>,
    /// The step of each execution the runner numbered.
    by_execution: HashMap<u64, String>,
}

impl ClusterExecutor {
    /// Starts, or resumes, run `run` (letters, digits, `-` and `_`) of the
    /// workflow stored under `workflow` (see [`Cluster::publish_workflow`]).
    pub async fn start(
        cluster: Arc<Cluster>,
        run: &str,
        workflow: &str,
        record: Arc<WorkflowRecord>,
    ) -> Result<Arc<ClusterExecutor>, ClusterError> {
        if run.is_empty() || !run.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') {
            return Err(ClusterError::malformed(
                "run id",
                format!("`{run}` (letters, digits, - and _ only)"),
            ));
        }
        let resuming = cluster.workflow_of_run(run).await?.is_some();
        cluster
            .runs
            .put(run, Bytes::from(workflow.to_string()))
            .await
            .map_err(|e| ClusterError::jetstream("record the run", e))?;
        let mailbox = Mailbox::open(&cluster.results, run).await?;
        Ok(Arc::new(ClusterExecutor {
            cluster,
            run: run.to_string(),
            workflow: workflow.to_string(),
            record,
            mailbox,
            steps: Mutex::new(Steps::default()),
            resuming,
        }))
    }

    /// The attempt's key; `input_json` is its input's JSON.
    fn key(&self, job: &NodeJob<'_>, input_json: &str) -> String {
        let mut steps = self.steps.lock().unwrap_or_else(PoisonError::into_inner);
        let step = match steps.by_execution.get(&job.execution) {
            Some(step) => step.clone(),
            None => {
                let mut digest = Sha256::new();
                digest.update(job.node.name().as_bytes());
                digest.update([0]);
                digest.update(input_json.as_bytes());
                let base = hex::encode(&digest.finalize()[..12]);
                let seen = steps.seen.entry(base.clone()).or_default();
                *seen += 1;
                let step = format!("{base}-{seen}");
                steps.by_execution.insert(job.execution, step.clone());
                step
            }
        };
        format!("{}.{step}.{}", self.run, job.attempt)
    }

    async fn run_attempt(&self, job: NodeJob<'_>) -> Result<Result<NodeOutput, NodeError>, ClusterError> {
        let input_json = job.input.to_json();
        let key = self.key(&job, &input_json);
        let answer = self.mailbox.expect(&key);
        if self.resuming {
            let stored = self
                .cluster
                .results
                .get(&key)
                .await
                .map_err(|e| ClusterError::jetstream("read a result", e))?;
            if let Some(stored) = stored {
                self.mailbox.forget(&key);
                tracing::debug!(key, "attempt answered from the stored result");
                return self.cluster.read_result(&stored).await;
            }
        }
        self.publish(&key, &job, &input_json).await?;
        match answer.await {
            Ok(stored) => self.cluster.read_result(&stored).await,
            Err(_) => Err(ClusterError::jetstream("wait for a result", "the results watch ended")),
        }
    }

    async fn publish(&self, key: &str, job: &NodeJob<'_>, input_json: &str) -> Result<(), ClusterError> {
        let kind = self.record.kind_of(job.node.plugin());
        let mut headers = HeaderMap::new();
        headers.insert(wire::RUN, self.run.as_str());
        headers.insert(wire::KEY, key);
        headers.insert(wire::ATTEMPT, job.attempt.to_string().as_str());
        headers.insert(wire::WORKFLOW, self.workflow.as_str());
        headers.insert(wire::NODE, job.node.name());
        let body = wire::job_body(input_json, &job.config);
        let payload = if body.len() > self.cluster.settings.inline_limit {
            let blob = format!("job.{key}");
            self.cluster.put_blob(&blob, &body).await?;
            headers.insert(wire::BLOB, blob.as_str());
            Bytes::new()
        } else {
            Bytes::from(body)
        };
        // The id after the headers: `headers()` replaces the whole map.
        let publish = PublishMessage::build()
            .headers(headers)
            .message_id(key)
            .payload(payload);
        let ack = self
            .cluster
            .js
            .send_publish(self.cluster.settings.subject(kind), publish)
            .await
            .map_err(|e| ClusterError::jetstream("queue a node attempt", e))?;
        ack.await
            .map_err(|e| ClusterError::jetstream("queue a node attempt", e))?;
        tracing::debug!(key, kind, node = job.node.name(), "attempt queued");
        Ok(())
    }
}

impl NodeExecutor for ClusterExecutor {
    fn attempt<'a>(&'a self, job: NodeJob<'a>) -> BoxFuture<'a, Result<NodeOutput, NodeError>> {
        Box::pin(async move {
            match self.run_attempt(job).await {
                Ok(result) => result,
                Err(error) => Err(NodeError::Failed(format!("cluster: {error}"))),
            }
        })
    }
}
