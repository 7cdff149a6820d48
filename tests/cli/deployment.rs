//! A temporary deployment (a pocket.toml and its plugin directories) and
//! small plugins and workflows to put in it.

use std::path::PathBuf;
use std::process::Command;

use crate::pocket;

/// A temporary deployment: a pocket.toml listing plugin directories.
pub struct Deployment {
    dir: tempfile::TempDir,
}

impl Deployment {
    /// pocket.toml with `[plugins] directories = directories` and `extra` after it.
    pub fn new(directories: &[&str], extra: &str) -> Deployment {
        let dir = tempfile::tempdir().unwrap();
        for d in directories {
            std::fs::create_dir_all(dir.path().join(d)).unwrap();
        }
        let listed: Vec<String> = directories.iter().map(|d| format!("{d:?}")).collect();
        std::fs::write(
            dir.path().join("pocket.toml"),
            format!("[plugins]\ndirectories = [{}]\n{extra}", listed.join(", ")),
        )
        .unwrap();
        Deployment { dir }
    }

    pub fn path(&self, relative: &str) -> PathBuf {
        self.dir.path().join(relative)
    }

    pub fn write(&self, relative: &str, text: &str) -> PathBuf {
        let path = self.path(relative);
        std::fs::write(&path, text).unwrap();
        path
    }

    /// `pocket --config <its pocket.toml>`.
    pub fn pocket(&self) -> Command {
        let mut cmd = pocket();
        cmd.arg("--config").arg(self.path("pocket.toml"));
        cmd
    }

    pub fn pocket_toml(&self) -> toml::Table {
        toml::from_str(&std::fs::read_to_string(self.path("pocket.toml")).unwrap()).unwrap()
    }
}

/// A Lua plugin `name` whose one node type `kind` adds `{from: name}`.
pub fn lua_plugin(name: &str, version: &str, node_type: &str) -> String {
    format!(
        "return {{ name = '{name}', version = '{version}', nodes = {{ ['{node_type}'] = {{ \
         exec = function(input) return {{ from = '{name}@{version}' }} end }} }} }}\n"
    )
}

/// A one-node workflow of type `node_type`.
pub fn workflow(d: &Deployment, node_type: &str) -> PathBuf {
    d.write(
        "flow.yaml",
        &format!("name: flow\nstart: only\nnodes:\n  - name: only\n    type: {node_type}\n"),
    )
}
