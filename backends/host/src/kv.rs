//! `kv_get` / `kv_set`: the plugin's own namespace of the run's key-value store.

use pocket_core::{KvStore, Request, Value};

use crate::{HostError, PluginHost};

impl PluginHost {
    /// The key under which the store holds this plugin's `key`:
    /// `plugin:<name>:<key>`, so plugins never see each other's entries.
    pub fn kv_key(&self, key: &str) -> String {
        format!("plugin:{}:{key}", self.plugin())
    }

    /// The value this plugin stored under `key` in the run's store. Needs `kv`.
    pub fn kv_get(&self, store: Option<&KvStore>, key: &str) -> Result<Option<Value>, HostError> {
        self.check(Request::Kv)?;
        let store = store.ok_or(HostError::NoStore)?;
        Ok(store.get(&self.kv_key(key)))
    }

    /// Stores `value` under this plugin's `key` in the run's store. Needs `kv`.
    pub fn kv_set(&self, store: Option<&KvStore>, key: &str, value: Value) -> Result<(), HostError> {
        self.check(Request::Kv)?;
        let store = store.ok_or(HostError::NoStore)?;
        store.set(&self.kv_key(key), value);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use pocket_core::{Capability, Permissions, StoreSpec};

    use super::*;

    #[test]
    fn plugins_see_only_their_own_keys() {
        let store = KvStore::new(&StoreSpec::default());
        let a = PluginHost::new("a", Permissions::new(vec![Capability::Kv]));
        let b = PluginHost::new("b", Permissions::new(vec![Capability::Kv]));
        a.kv_set(Some(&store), "k", Value::from(1)).unwrap();
        assert_eq!(a.kv_get(Some(&store), "k").unwrap(), Some(Value::from(1)));
        assert_eq!(b.kv_get(Some(&store), "k").unwrap(), None);
    }

    #[test]
    fn kv_without_the_capability_is_denied() {
        let store = KvStore::new(&StoreSpec::default());
        let host = PluginHost::new("p", Permissions::default());
        let err = host.kv_set(Some(&store), "k", Value::Null).unwrap_err();
        assert_eq!(err.to_string(), "permission denied: kv");
    }
}
