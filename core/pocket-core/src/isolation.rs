//! [`Isolation`]: where a native plugin's code runs (`[plugins.isolation]`
//! in pocket.toml).

use serde::Deserialize;

/// Where a plugin's code runs. Only native plugins have a choice: Lua and
/// WASM plugins always run in their sandbox inside the host process, and
/// the setting does not apply to them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Deserialize, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Isolation {
    /// In the host process (the default, and the fastest): a crash of the
    /// plugin's code is a crash of the host.
    #[default]
    InProcess,
    /// In a child process of its own, spoken to over a pipe: a crash, an
    /// abort or an endless loop fails one node, and the host goes on.
    Process,
}

impl Isolation {
    /// The setting as pocket.toml writes it.
    pub fn name(self) -> &'static str {
        match self {
            Isolation::InProcess => "in-process",
            Isolation::Process => "process",
        }
    }
}

impl std::fmt::Display for Isolation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}
