//! Errors and diagnostics, printed for humans on stderr.

use pocket_core::{Diagnostic, RunError, ValidationError};

/// Prints an error and its causes, in ripgrep/cargo style.
pub fn error(error: &anyhow::Error) {
    if let Some(invalid) = layer::<ValidationError>(error, |e| match e {
        pocket_runtime::Error::Invalid(invalid) => Some(invalid),
        _ => None,
    }) {
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
    let run = layer::<RunError>(error, |e| match e {
        pocket_runtime::Error::Run(run) => Some(run),
        _ => None,
    })?;
    match run {
        RunError::NodeFailed { .. } => {
            Some("add an `error` edge from the node to handle failures, or a `retry:` policy")
        }
        _ => None,
    }
}

/// The error of type `T` that `error` is, directly or as the variant of
/// [`pocket_runtime::Error`] that `unwrap` picks.
fn layer<'a, T: std::error::Error + Send + Sync + 'static>(
    error: &'a anyhow::Error,
    unwrap: impl Fn(&'a pocket_runtime::Error) -> Option<&'a T>,
) -> Option<&'a T> {
    error
        .downcast_ref::<T>()
        .or_else(|| error.downcast_ref::<pocket_runtime::Error>().and_then(unwrap))
}

/// Prints left-aligned columns; the last column is not padded.
pub fn table<const N: usize>(headers: &[&str; N], rows: &[[String; N]]) {
    let mut widths = headers.map(str::len);
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.len());
        }
    }
    let line = |cells: [&str; N]| {
        let mut text = String::new();
        for (i, cell) in cells.iter().enumerate() {
            if i + 1 == N {
                text.push_str(cell);
            } else {
                text.push_str(&format!("{cell:<width$}  ", width = widths[i]));
            }
        }
        println!("{}", text.trim_end());
    };
    line(*headers);
    for row in rows {
        line(row.each_ref().map(String::as_str));
    }
}
