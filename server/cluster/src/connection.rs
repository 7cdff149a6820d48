//! The connection to a cluster: the JetStream stream, buckets and object
//! stores every role uses, created on first contact.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_nats::jetstream::{self, kv, object_store, stream};
use tokio::io::AsyncReadExt;
use tokio_util::sync::CancellationToken;

use crate::digests::Digests;
use crate::error::ClusterError;
use crate::settings::{ClusterSettings, KINDS};

/// The largest blob (a large input, config or result) read back: a value
/// past this is refused rather than held in memory.
const MAX_BLOB: u64 = 256 * 1024 * 1024;

/// A connection to a cluster and the JetStream resources it uses.
pub struct Cluster {
    pub(crate) js: jetstream::Context,
    pub(crate) settings: ClusterSettings,
    pub(crate) jobs: stream::Stream,
    pub(crate) results: kv::Store,
    pub(crate) workflows: kv::Store,
    pub(crate) runs: kv::Store,
    pub(crate) blobs: object_store::ObjectStore,
    pub(crate) plugins: object_store::ObjectStore,
    /// Digests of the plugin files this side described.
    pub(crate) digests: Digests,
    /// Workflow records this side published, and when.
    pub(crate) published: Mutex<HashMap<String, Instant>>,
}

impl Cluster {
    /// Connects to the NATS server at `url` (`nats://host:4222`) and makes
    /// sure the cluster's stream, buckets and object stores exist.
    pub async fn connect(url: &str, settings: ClusterSettings) -> Result<Arc<Cluster>, ClusterError> {
        let client = async_nats::ConnectOptions::new()
            .name("pocket")
            .connection_timeout(Duration::from_secs(5))
            .connect(url)
            .await
            .map_err(|e| ClusterError::Connect {
                url: url.to_string(),
                message: e.to_string(),
            })?;
        let js = jetstream::new(client);
        let jobs = js
            .get_or_create_stream(stream::Config {
                name: settings.stream(),
                subjects: KINDS.iter().map(|kind| settings.subject(kind)).collect(),
                retention: stream::RetentionPolicy::WorkQueue,
                duplicate_window: Duration::from_secs(120),
                ..Default::default()
            })
            .await
            .map_err(|e| ClusterError::jetstream(format!("create the stream {}", settings.stream()), e))?;
        let bucket = |what: &str| kv::Config {
            bucket: settings.bucket(what),
            history: 1,
            max_age: settings.retention,
            ..Default::default()
        };
        let results = key_value(&js, bucket("results")).await?;
        let workflows = key_value(&js, bucket("workflows")).await?;
        let runs = key_value(&js, bucket("runs")).await?;
        let blobs = objects(&js, &settings.bucket("blobs"), settings.retention).await?;
        let plugins = objects(&js, &settings.bucket("plugins"), Duration::ZERO).await?;
        Ok(Arc::new(Cluster {
            js,
            settings,
            jobs,
            results,
            workflows,
            runs,
            blobs,
            plugins,
            digests: Digests::default(),
            published: Mutex::new(HashMap::new()),
        }))
    }

    /// The settings this side uses.
    pub fn settings(&self) -> &ClusterSettings {
        &self.settings
    }

    /// How many node attempts wait in the work queue.
    pub async fn queue_depth(&self) -> Result<u64, ClusterError> {
        let mut jobs = self.jobs.clone();
        let info = jobs
            .info()
            .await
            .map_err(|e| ClusterError::jetstream("read the work queue's depth", e))?;
        Ok(info.state.messages)
    }

    /// Waits until the work queue holds no more than
    /// [`ClusterSettings::max_queue_depth`] attempts (or `cancel` fires).
    pub async fn wait_for_room(&self, cancel: &CancellationToken) -> Result<(), ClusterError> {
        let limit = self.settings.max_queue_depth;
        let mut delay = Duration::from_millis(20);
        let mut said = false;
        loop {
            let depth = self.queue_depth().await?;
            if depth <= limit {
                return Ok(());
            }
            if !said {
                tracing::info!(depth, limit, "the work queue is full: the run waits before it starts");
                said = true;
            }
            tokio::select! {
                () = tokio::time::sleep(delay) => {}
                () = cancel.cancelled() => return Ok(()),
            }
            delay = (delay * 2).min(Duration::from_millis(500));
        }
    }

    /// Stores `text` as the blob `name`.
    pub(crate) async fn put_blob(&self, name: &str, text: &str) -> Result<(), ClusterError> {
        self.blobs
            .put(name, &mut text.as_bytes())
            .await
            .map(drop)
            .map_err(|e| ClusterError::jetstream(format!("store the blob {name}"), e))
    }

    /// The blob `name`, as text.
    pub(crate) async fn blob(&self, name: &str) -> Result<String, ClusterError> {
        let bytes = read_object(&self.blobs, name, MAX_BLOB).await?;
        String::from_utf8(bytes).map_err(|e| ClusterError::malformed("blob", e))
    }
}

/// All of object `name` in `store`, refused past `limit` bytes.
pub(crate) async fn read_object(
    store: &object_store::ObjectStore,
    name: &str,
    limit: u64,
) -> Result<Vec<u8>, ClusterError> {
    let object = store
        .get(name)
        .await
        .map_err(|e| ClusterError::jetstream(format!("fetch {name}"), e))?;
    let mut bytes = Vec::new();
    object
        .take(limit + 1)
        .read_to_end(&mut bytes)
        .await
        .map_err(|e| ClusterError::jetstream(format!("read {name}"), e))?;
    if bytes.len() as u64 > limit {
        return Err(ClusterError::malformed(
            "object",
            format!("{name} is larger than {limit} bytes"),
        ));
    }
    Ok(bytes)
}

async fn key_value(js: &jetstream::Context, config: kv::Config) -> Result<kv::Store, ClusterError> {
    let name = config.bucket.clone();
    js.create_or_update_key_value(config)
        .await
        .map_err(|e| ClusterError::jetstream(format!("create the bucket {name}"), e))
}

async fn objects(
    js: &jetstream::Context,
    bucket: &str,
    max_age: Duration,
) -> Result<object_store::ObjectStore, ClusterError> {
    if let Ok(store) = js.get_object_store(bucket).await {
        return Ok(store);
    }
    js.create_object_store(object_store::Config {
        bucket: bucket.to_string(),
        max_age,
        ..Default::default()
    })
    .await
    .map_err(|e| ClusterError::jetstream(format!("create the object store {bucket}"), e))
}
