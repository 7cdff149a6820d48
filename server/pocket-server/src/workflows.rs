//! The workflows `pocket serve` runs by name (every workflow file in its
//! workflows directory, validated when loaded), and inline workflows sent
//! with a run.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use pocket_core::{Format, Graph, Trigger};

use pocket_runtime::Deployment;

/// A validated workflow.
#[derive(Clone)]
pub struct Workflow {
    /// Its declared name.
    pub name: String,
    /// The file it came from.
    pub path: PathBuf,
    /// Its source text.
    pub source: Arc<str>,
    /// The executable graph, shared by all its runs.
    pub graph: Arc<Graph>,
}

impl Workflow {
    /// What its runs execute.
    pub fn definition(&self) -> Definition {
        Definition {
            graph: self.graph.clone(),
            source: self.source.clone(),
            format: Format::of_path(&self.path),
        }
    }
}

/// What a run executes: the graph, and the text it was built from (which
/// a cluster's workers build again).
#[derive(Clone)]
pub struct Definition {
    /// The executable graph.
    pub graph: Arc<Graph>,
    /// The workflow's text.
    pub source: Arc<str>,
    /// The text's format.
    pub format: Format,
}

impl Definition {
    /// Parses and validates `source` against the host's plugins.
    pub fn build(source: &str, format: Format, host: &Deployment) -> Result<Definition, String> {
        let file = pocket_core::parse_str(source, format).map_err(|e| e.to_string())?;
        let validated =
            pocket_core::validate(&file, &host.registry().catalog(), host.config()).map_err(|e| e.to_string())?;
        Ok(Definition {
            graph: validated.graph,
            source: source.into(),
            format,
        })
    }
}

/// The workflows of one directory: those that validated, and why the others did not.
#[derive(Default)]
pub struct WorkflowSet {
    loaded: BTreeMap<String, Arc<Workflow>>,
    failed: Vec<(PathBuf, String)>,
    /// (method, path) of each webhook -> the workflow it starts.
    hooks: BTreeMap<(String, String), String>,
}

/// Workflow files by extension.
fn is_workflow_file(path: &Path) -> bool {
    matches!(
        path.extension().and_then(|e| e.to_str()),
        Some("yaml" | "yml" | "json" | "toml")
    )
}

impl WorkflowSet {
    /// Loads every workflow file in `dir` (none without a directory). A file
    /// that does not parse or validate is kept as a failure, reported, and
    /// does not stop the others.
    pub fn load(dir: Option<&Path>, host: &Deployment) -> Result<WorkflowSet, crate::ServeError> {
        WorkflowSet::reload(&WorkflowSet::default(), dir, host)
    }

    /// Loads `dir` again after a change. A file edited into one that fails
    /// keeps serving its version from `previous` (its failure is listed all
    /// the same), so a broken edit never takes a workflow away; a file that
    /// fails unedited (a plugin it uses went away) is dropped.
    ///
    /// Files `previous` served claim their names and webhooks first, then
    /// new files, each group in file-name order: a new file never takes a
    /// name or a webhook from a workflow that holds it; it is the one refused.
    pub fn reload(
        previous: &WorkflowSet,
        dir: Option<&Path>,
        host: &Deployment,
    ) -> Result<WorkflowSet, crate::ServeError> {
        let mut set = WorkflowSet::default();
        let Some(dir) = dir else { return Ok(set) };
        let entries = std::fs::read_dir(dir).map_err(|source| crate::ServeError::Workflows {
            dir: dir.to_path_buf(),
            source,
        })?;
        let mut paths: Vec<PathBuf> = entries
            .filter_map(|entry| entry.ok().map(|e| e.path()))
            .filter(|path| path.is_file() && is_workflow_file(path))
            .collect();
        let served = |path: &PathBuf| previous.loaded().any(|w| &w.path == path);
        paths.sort_by_cached_key(|path| (!served(path), path.clone()));
        for path in paths {
            if let Err(message) = load_file(&path, host).and_then(|workflow| set.claim(workflow)) {
                tracing::warn!(file = %path.display(), "workflow not loaded: {message}");
                let edited = |w: &Workflow| std::fs::read_to_string(&w.path).ok().as_deref() != Some(&*w.source);
                if let Some(kept) = previous.loaded().find(|w| w.path == path && edited(w))
                    && let Err(conflict) = set.claim(Workflow::clone(kept))
                {
                    tracing::warn!(file = %path.display(), "last good version not kept: {conflict}");
                }
                set.failed.push((path, message));
            }
        }
        set.failed.sort();
        Ok(set)
    }

    /// Adds a workflow, unless its name or one of its webhooks is taken.
    fn claim(&mut self, workflow: Workflow) -> Result<(), String> {
        if let Some(other) = self.loaded.get(&workflow.name) {
            return Err(format!(
                "workflow `{}` is already defined by {}",
                workflow.name,
                other.path.display()
            ));
        }
        let hooks: Vec<(String, String)> = workflow
            .graph
            .triggers()
            .iter()
            .filter_map(|trigger| match trigger {
                Trigger::Webhook { path, method } => Some((method.clone(), path.clone())),
                Trigger::Cron { .. } => None,
            })
            .collect();
        for hook in &hooks {
            if let Some(other) = self.hooks.get(hook) {
                return Err(format!(
                    "webhook {} {} is already used by workflow `{other}`",
                    hook.0, hook.1
                ));
            }
        }
        for hook in hooks {
            self.hooks.insert(hook, workflow.name.clone());
        }
        self.loaded.insert(workflow.name.clone(), Arc::new(workflow));
        Ok(())
    }

    /// The webhooks at `path`: each method and the workflow it starts.
    pub fn hooks_at<'a>(&'a self, path: &'a str) -> impl Iterator<Item = (&'a str, &'a Arc<Workflow>)> {
        self.hooks
            .iter()
            .filter(move |((_, at), _)| at == path)
            .filter_map(|((method, _), name)| Some((method.as_str(), self.loaded.get(name)?)))
    }

    /// Every (workflow, cron schedule) pair.
    pub fn schedules(&self) -> impl Iterator<Item = (&Arc<Workflow>, &str)> {
        self.loaded.values().flat_map(|workflow| {
            workflow
                .graph
                .triggers()
                .iter()
                .filter_map(move |trigger| match trigger {
                    Trigger::Cron { schedule } => Some((workflow, schedule.as_str())),
                    Trigger::Webhook { .. } => None,
                })
        })
    }

    /// The workflow named `name`.
    pub fn get(&self, name: &str) -> Option<&Arc<Workflow>> {
        self.loaded.get(name)
    }

    /// Every loaded workflow, by name.
    pub fn loaded(&self) -> impl Iterator<Item = &Arc<Workflow>> {
        self.loaded.values()
    }

    /// The files that failed, and why.
    pub fn failed(&self) -> &[(PathBuf, String)] {
        &self.failed
    }
}

fn load_file(path: &Path, host: &Deployment) -> Result<Workflow, String> {
    let source = std::fs::read_to_string(path).map_err(|e| format!("cannot read it: {e}"))?;
    // The text kept is the text validated: the file is read once.
    let validated = host.validate_text(path, &source).map_err(|e| e.to_string())?;
    Ok(Workflow {
        name: validated.graph.name().to_string(),
        path: path.to_path_buf(),
        source: source.into(),
        graph: validated.graph,
    })
}

/// Parses (YAML, which includes JSON) and validates a workflow sent inline.
pub fn inline(source: &str, host: &Deployment) -> Result<Definition, String> {
    Definition::build(source, Format::Yaml, host)
}
