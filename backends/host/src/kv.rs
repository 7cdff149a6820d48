//! `kv_get` / `kv_set`: the plugin's own namespace of the run's key-value store.

use pocket_core::{KvStore, Owner, Request, Value};

use crate::{HostError, PluginHost};

impl PluginHost {
    /// The value this plugin stored under `key` in the run's store. Needs `kv`.
    pub fn kv_get(&self, store: Option<&KvStore>, key: &str) -> Result<Option<Value>, HostError> {
        self.check(Request::Kv)?;
        let store = store.ok_or(HostError::NoStore)?;
        Ok(store.get(Owner::Plugin(self.plugin()), key))
    }

    /// Stores `value` under this plugin's `key` in the run's store, unless
    /// the plugin's entries would then go past its `kv_bytes`, `kv_keys` or
    /// `kv_value_bytes` limit. Needs `kv`.
    pub fn kv_set(&self, store: Option<&KvStore>, key: &str, value: Value) -> Result<(), HostError> {
        self.check(Request::Kv)?;
        let store = store.ok_or(HostError::NoStore)?;
        store.set_within(Owner::Plugin(self.plugin()), key, value, &self.kv_quota)?;
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
        // A name with the separator in it reaches nothing of another plugin's.
        a.kv_set(Some(&store), "b:secret", Value::from(2)).unwrap();
        let ab = PluginHost::new("a:b", Permissions::new(vec![Capability::Kv]));
        assert_eq!(ab.kv_get(Some(&store), "secret").unwrap(), None);
    }

    #[test]
    fn a_flood_of_kv_sets_stops_at_the_kv_bytes_limit_and_the_store_goes_on() {
        let host =
            crate::configured_host("[plugins.permissions]\np = [\"kv\"]\n[plugins.limits.p]\nkv_bytes = \"64KiB\"\n");
        let store = KvStore::new(&StoreSpec::default());
        let refused = (0..1000)
            .map(|i| host.kv_set(Some(&store), &format!("k{i}"), Value::from("v".repeat(1000))))
            .find_map(Result::err)
            .expect("the flood is refused at some point");
        assert!(refused.to_string().contains("kv_bytes limit exceeded"), "{refused}");
        assert_eq!(
            host.kv_get(Some(&store), "k0").unwrap(),
            Some(Value::from("v".repeat(1000)))
        );
        let other = PluginHost::new("q", Permissions::new(vec![Capability::Kv]));
        other.kv_set(Some(&store), "k", Value::from(1)).unwrap();
    }

    #[test]
    fn kv_without_the_capability_is_denied() {
        let store = KvStore::new(&StoreSpec::default());
        let host = PluginHost::new("p", Permissions::default());
        let err = host.kv_set(Some(&store), "k", Value::Null).unwrap_err();
        assert_eq!(
            err.to_string(),
            "permission denied: kv (pocket.toml does not grant it to this plugin)"
        );
    }
}
