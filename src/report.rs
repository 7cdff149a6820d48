//! Errors and diagnostics, printed for humans on stderr.

use pocket_core::{Diagnostic, RunError, ValidationError};

/// Prints an error and its causes, in ripgrep/cargo style.
pub fn error(error: &anyhow::Error) {
    if let Some(invalid) = error.downcast_ref::<ValidationError>() {
        for warning in &invalid.warnings {
            diagnostic(warning);
        }
        for e in &invalid.errors {
            diagnostic(e);
        }
        let count = invalid.errors.len();
        eprintln!(
            "error: the workflow is invalid ({count} error{})",
            if count == 1 { "" } else { "s" }
        );
        return;
    }
    eprintln!("error: {error}");
    for cause in error.chain().skip(1) {
        eprintln!("  caused by: {cause}");
    }
    if let Some(hint) = hint(error) {
        eprintln!("  help: {hint}");
    }
}

/// Prints one validation finding.
pub fn diagnostic(diagnostic: &Diagnostic) {
    eprintln!("{diagnostic}");
}

fn hint(error: &anyhow::Error) -> Option<&'static str> {
    match error.downcast_ref::<RunError>()? {
        RunError::NodeFailed { .. } => {
            Some("add an `error` edge from the node to handle failures, or a `retry:` policy")
        }
        _ => None,
    }
}
