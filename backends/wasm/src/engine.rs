//! [`WasmEngine`]: the compiler configuration shared by every WASM plugin
//! (cranelift, fuel metering), and the on-disk [`ModuleCache`] in front of it.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use crate::cache::{CacheKey, ModuleCache};
use crate::error::ModuleError;
use crate::fuel_meter::FuelMeter;
use crate::limits::MemoryCap;
use wasmer::sys::{CompilerConfig, Cranelift, EngineBuilder, NativeEngineExt};
use wasmer::{Engine, Module};

/// The fuel an instance starts with, before the first call sets the
/// plugin's own budget (no guest code runs before that: modules with a start
/// function are refused).
pub(crate) const INSTANTIATION_FUEL: u64 = 1_000_000_000;

/// Where a compiled module came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompileSource {
    /// Loaded from the module cache without compiling.
    Cache,
    /// Compiled now (and written to the cache, when there is one).
    Compiled,
}

/// Compiles modules for Pocket's WASM plugins; cheap to clone.
///
/// Built with [`WasmEngine::builder`]; [`WasmEngine::new`] gives the
/// defaults: metering on, cache in [`ModuleCache::default_dir`].
#[derive(Clone)]
pub struct WasmEngine {
    inner: Arc<EngineInner>,
}

struct EngineInner {
    metering: bool,
    cache: Option<ModuleCache>,
    fingerprint: String,
}

/// Options for a [`WasmEngine`], validated once by [`WasmEngineBuilder::build`].
#[derive(Debug, Clone)]
pub struct WasmEngineBuilder {
    metering: bool,
    cache_dir: Option<PathBuf>,
    cache: bool,
}

impl Default for WasmEngineBuilder {
    fn default() -> Self {
        WasmEngineBuilder {
            metering: true,
            cache_dir: None,
            cache: true,
        }
    }
}

impl WasmEngineBuilder {
    /// Whether compiled code counts fuel (default on). Without metering the
    /// `fuel` limit is not enforced and the `timeout` limit is only checked
    /// when a call returns: for benchmarks and trusted modules only.
    pub fn metering(mut self, on: bool) -> Self {
        self.metering = on;
        self
    }

    /// Caches compiled modules in `dir` instead of the default directory.
    pub fn cache_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.cache_dir = Some(dir.into());
        self.cache = true;
        self
    }

    /// Compiles every module afresh, without reading or writing a cache.
    pub fn without_cache(mut self) -> Self {
        self.cache = false;
        self
    }

    /// The engine. A cache directory that cannot be created disables the
    /// cache (with a warning) rather than failing.
    pub fn build(self) -> WasmEngine {
        let engine = new_engine(self.metering);
        let target = engine.target();
        let fingerprint = format!(
            "pocket-wasm {}; wasmer {}; compiler {}; metering {}; target {}; cpu {:?}",
            env!("CARGO_PKG_VERSION"),
            WASMER_SERIES,
            engine.deterministic_id(),
            if self.metering { METERING } else { "off" },
            target.triple(),
            target.cpu_features(),
        );
        let cache = if self.cache {
            match self.cache_dir.or_else(ModuleCache::default_dir) {
                Some(dir) => ModuleCache::open(dir),
                None => {
                    tracing::warn!("no cache directory (set POCKET_CACHE_DIR); WASM modules compile on every load");
                    None
                }
            }
        } else {
            None
        };
        WasmEngine {
            inner: Arc::new(EngineInner {
                metering: self.metering,
                cache,
                fingerprint,
            }),
        }
    }
}

/// The wasmer release series this crate is pinned to (`~7.4`); part of the
/// cache key, next to wasmer's own format version check.
const WASMER_SERIES: &str = "7.4";

/// How compiled code counts fuel; part of the cache key, so modules compiled
/// under other rules are never reused.
const METERING: &str = "used/limit; 1/operator but block, loop, end, nop; bulk 1/8 bytes or 1/element; checked at back branches, calls, bulk";

/// A wasmer engine compiling with cranelift and, if `metering`, fuel metering
/// ([`FuelMeter`]).
///
/// Each module gets an engine of its own: the meter keeps the indexes of the
/// globals it adds to the one module it transformed, and refuses a second one.
pub(crate) fn new_engine(metering: bool) -> Engine {
    let mut compiler = Cranelift::default();
    if metering {
        compiler.push_middleware(Arc::new(FuelMeter::new(INSTANTIATION_FUEL)));
    }
    EngineBuilder::new(compiler).engine().into()
}

impl Default for WasmEngine {
    fn default() -> Self {
        WasmEngine::new()
    }
}

impl WasmEngine {
    /// The default engine: metering on, cache in `$POCKET_CACHE_DIR` or the platform cache dir.
    pub fn new() -> Self {
        WasmEngineBuilder::default().build()
    }

    /// Options for an engine.
    pub fn builder() -> WasmEngineBuilder {
        WasmEngineBuilder::default()
    }

    /// Whether compiled code counts fuel.
    pub fn metering(&self) -> bool {
        self.inner.metering
    }

    /// The module cache, if this engine has one.
    pub fn cache(&self) -> Option<&ModuleCache> {
        self.inner.cache.as_ref()
    }

    /// Compiles `wasm` (binary WebAssembly), or loads it from the cache.
    pub fn compile(&self, wasm: &[u8]) -> Result<Compiled, ModuleError> {
        let engine = new_engine(self.inner.metering);
        let key = CacheKey::new(wasm, &self.inner.fingerprint);
        if let Some(module) = self.cache().and_then(|c| c.load(&engine, &key)) {
            return Ok(Compiled {
                module,
                engine,
                source: CompileSource::Cache,
            });
        }
        let started = Instant::now();
        let module = Module::new(&engine, wasm).map_err(|e| ModuleError::Compile(e.to_string()))?;
        tracing::debug!(elapsed = ?started.elapsed(), bytes = wasm.len(), "compiled WASM module");
        if let Some(cache) = self.cache() {
            cache.store(&key, &module);
        }
        Ok(Compiled {
            module,
            engine,
            source: CompileSource::Compiled,
        })
    }
}

/// A compiled module and the engine it was compiled (or loaded) with.
pub struct Compiled {
    /// The module.
    pub module: Module,
    engine: Engine,
    /// Whether it came from the cache.
    pub source: CompileSource,
}

impl Compiled {
    /// An engine sharing the module's compiled code whose linear memories
    /// are capped at `limit` bytes: stores made from it run one plugin's instances.
    pub(crate) fn limited(&self, limit: u64) -> Engine {
        let mut engine = self.engine.clone();
        engine.set_tunables(MemoryCap::new(limit));
        engine
    }
}
