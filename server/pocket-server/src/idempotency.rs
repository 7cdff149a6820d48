//! Idempotency keys are scoped to their workflow: the history keeps a key
//! as the pair (workflow, key), so the same key sent for another workflow
//! is a different key. A replay can only ever answer with a run of the
//! workflow the request names, and a key never tells whether another
//! workflow used it.

/// The key `key` of a run of `workflow`, as the history keeps it: a JSON
/// pair, so no two (workflow, key) pairs share one.
pub fn scoped(workflow: &str, key: &str) -> String {
    serde_json::Value::from(vec![workflow, key]).to_string()
}

/// The caller's key back from `stored`, the key a run of `workflow` was
/// recorded under (as is when it was recorded unscoped, by an earlier version).
pub fn unscoped(workflow: &str, stored: &str) -> String {
    match serde_json::from_str::<(String, String)>(stored) {
        Ok((of, key)) if of == workflow => key,
        _ => stored.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_of_different_workflows_never_meet_and_come_back_as_sent() {
        assert_ne!(scoped("a", "b:c"), scoped("a:b", "c"));
        assert_ne!(scoped("orders", "k"), scoped("payroll", "k"));
        let stored = scoped("orders \"eu\"", "cron:x:1");
        assert_eq!(unscoped("orders \"eu\"", &stored), "cron:x:1");
        assert_eq!(unscoped("orders", "plain-old-key"), "plain-old-key");
    }
}
