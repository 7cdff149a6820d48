//! Go text/template semantics over Pocket values.
