//! Validation findings, with where they are and what to do about them.

use std::fmt;
use std::path::PathBuf;

use crate::location::{Position, location_prefix};

/// How serious a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    /// The workflow cannot run.
    Error,
    /// The workflow runs, but probably not as meant.
    Warning,
}

/// One validation finding.
#[derive(Debug, Clone, PartialEq)]
pub struct Diagnostic {
    /// Error or warning.
    pub severity: Severity,
    /// The workflow file.
    pub file: Option<PathBuf>,
    /// Where in it.
    pub position: Option<Position>,
    /// The node concerned, if one is.
    pub node: Option<String>,
    /// What is wrong.
    pub message: String,
    /// What to do about it.
    pub help: Option<String>,
}

impl fmt::Display for Diagnostic {
    /// `file:line:col: error: node `x`: message` and an indented `help:` line.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let level = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        write!(f, "{}{level}: ", location_prefix(self.file.as_deref(), self.position))?;
        if let Some(node) = &self.node {
            write!(f, "node `{node}`: ")?;
        }
        f.write_str(&self.message)?;
        if let Some(help) = &self.help {
            write!(f, "\n  help: {help}")?;
        }
        Ok(())
    }
}

/// A workflow failed validation: every error found, not just the first.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{}", render(.errors))]
pub struct ValidationError {
    /// The errors, in file order.
    pub errors: Vec<Diagnostic>,
    /// Warnings found along the way.
    pub warnings: Vec<Diagnostic>,
}

fn render(diagnostics: &[Diagnostic]) -> String {
    diagnostics
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("\n")
}
