//! [`CallFailure`]: why a guest call gave no response, and what that leaves
//! of the instance.

use pocket_core::Limit;
use pocket_host::Fate;

/// Why a call did not produce a response.
#[derive(Debug)]
pub(crate) enum CallFailure {
    /// A limit stopped it; the instance must be discarded.
    Limit(Limit),
    /// The guest trapped; the instance must be discarded.
    Trap(String),
    /// The guest panicked, saying this (message and source location); the
    /// instance must be discarded.
    Panic(String),
    /// The guest broke the ABI (a bad pointer, a failed allocation); the instance stays usable.
    Abi(String),
    /// The guest called WASI's `proc_exit` with this code; the instance must
    /// be discarded.
    Exited(i32),
    /// An Extism function returned this non-zero code, with the error it
    /// set (if any); the instance stays usable.
    Returned(i32, Option<String>),
    /// Extism's kernel stopped the guest (a bad offset, a full var store, a
    /// refused HTTP request); the instance must be discarded.
    Kernel(String),
}

impl std::fmt::Display for CallFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CallFailure::Limit(limit) => write!(f, "{limit} limit exceeded"),
            CallFailure::Trap(message) => write!(f, "trapped: {message}"),
            CallFailure::Panic(message) => write!(f, "panicked: {message}"),
            CallFailure::Abi(message) => f.write_str(message),
            CallFailure::Exited(code) => write!(f, "exited with code {code}"),
            CallFailure::Returned(_, Some(message)) | CallFailure::Kernel(message) => f.write_str(message),
            CallFailure::Returned(code, None) => write!(f, "returned error code {code}"),
        }
    }
}

impl CallFailure {
    /// What the failure leaves of the instance: only an ABI mistake or an
    /// error the guest returned leaves it usable.
    pub(crate) fn fate(&self) -> Fate {
        match self {
            CallFailure::Abi(_) | CallFailure::Returned(..) => Fate::Keep,
            CallFailure::Limit(_)
            | CallFailure::Trap(_)
            | CallFailure::Panic(_)
            | CallFailure::Exited(_)
            | CallFailure::Kernel(_) => Fate::Discard,
        }
    }
}
