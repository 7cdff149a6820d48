//! [`Policy`]: what the operator grants one plugin.

use crate::isolation::Isolation;
use crate::limits::Limits;
use crate::permissions::Permissions;

/// What pocket.toml grants one plugin: resolved by the host from the
/// plugin's name ([`crate::PocketConfig::policy`]) and bound to it at load.
#[derive(Debug, Clone, Default)]
pub struct Policy {
    /// The limits it runs under.
    pub limits: Limits,
    /// Its capabilities.
    pub permissions: Permissions,
    /// Where its code runs (native plugins only; in-process by default).
    pub isolation: Isolation,
}
