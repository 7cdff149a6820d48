//! Lazy plugin loading: a command that only runs workflows registers every
//! plugin from its cached description ([`DescriptionCache`]) and loads a
//! plugin only when one of its node types is first prepared
//! ([`LazyPlugin`]). Plugins without a fresh cache entry load eagerly, and
//! are cached for the next process.

mod cache;
mod plugin;

pub use cache::DescriptionCache;
pub use plugin::LazyPlugin;
