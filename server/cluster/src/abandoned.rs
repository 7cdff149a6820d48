//! Attempts no worker finished: when JetStream has delivered an attempt
//! [`crate::ClusterSettings::max_deliver`] times and each worker that took
//! it died (a plugin that kills its process, a machine that keeps failing),
//! it stops delivering it and says so in an advisory. Workers listen, store
//! a failure as the attempt's result, so its run goes on (to the node's
//! retries or `error` edge) instead of waiting for ever, and delete the
//! message.

use futures_util::StreamExt;
use pocket_core::{NodeError, Value};
use tokio_util::sync::CancellationToken;

use crate::connection::Cluster;
use crate::error::ClusterError;
use crate::results::Stored;
use crate::wire;

impl Cluster {
    /// Fails the attempts that ran out of deliveries on the consumer of
    /// `kind`, until `stop` fires.
    pub(crate) async fn fail_abandoned(&self, kind: &str, stop: CancellationToken) -> Result<(), ClusterError> {
        let subject = format!(
            "$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.{}.{}",
            self.settings.stream(),
            self.settings.consumer(kind)
        );
        let mut advisories = self
            .js
            .client()
            .subscribe(subject)
            .await
            .map_err(|e| ClusterError::jetstream("watch for abandoned attempts", e))?;
        loop {
            let advisory = tokio::select! {
                advisory = advisories.next() => advisory,
                () = stop.cancelled() => return Ok(()),
            };
            let Some(advisory) = advisory else { return Ok(()) };
            let text = String::from_utf8_lossy(&advisory.payload);
            let Some((sequence, deliveries)) = Value::from_json(&text).ok().and_then(|v| {
                Some((
                    v.get("stream_seq")?.as_i64()?,
                    v.get("deliveries").and_then(Value::as_i64).unwrap_or_default(),
                ))
            }) else {
                continue;
            };
            if let Err(error) = self.fail_attempt(sequence.cast_unsigned(), deliveries).await {
                tracing::warn!(sequence, %error, "cannot fail an abandoned attempt");
            }
        }
    }

    async fn fail_attempt(&self, sequence: u64, deliveries: i64) -> Result<(), ClusterError> {
        let message = match self.jobs.get_raw_message(sequence).await {
            Ok(message) => message,
            // Another worker handled it already.
            Err(_) => return Ok(()),
        };
        let Some(key) = message.headers.get(wire::KEY).map(|v| v.as_str().to_string()) else {
            return Ok(());
        };
        let node = message
            .headers
            .get(wire::NODE)
            .map(|v| v.as_str().to_string())
            .unwrap_or_default();
        let error = NodeError::Crashed(format!(
            "no worker finished it: each of the {deliveries} workers that took it stopped first \
             (a plugin that ends its process, or failing machines)"
        ));
        if self.store_result(&key, &Err(error)).await? == Stored::First {
            tracing::warn!(key, node, deliveries, "gave up on an attempt no worker finished");
        }
        // Gone from the queue: a message past its deliveries is never delivered again anyway.
        let _ = self.jobs.delete_message(sequence).await;
        Ok(())
    }
}
