//! Load-time checks of a compiled module, before instantiation: every import
//! is one the host provides with the right signature, every required export
//! is there with the right type, and the initial memory fits the limit.

use wasmer::{ExternType, FunctionType, Module, WASM_PAGE_SIZE};

use pocket_wasm_abi::{HOST_IMPORTS, OPTIONAL_EXPORTS, REQUIRED_EXPORTS, Signature};

use crate::abi::{IMPORT_MODULE, wasmer_type};
use crate::error::ModuleError;
use crate::extism;
use crate::wasi::{self, WASI_MODULE};

/// Checks `module` against ABI v1 (or, for an Extism module, Extism's
/// kernel) and a linear memory limit of `memory_limit` bytes.
pub(crate) fn validate(module: &Module, memory_limit: u64) -> Result<(), ModuleError> {
    let extism = extism::is_extism(module);
    for import in module.imports() {
        check_import(import.module(), import.name(), import.ty(), extism)?;
    }
    let mut memory = None;
    for export in module.exports() {
        if export.name() == "memory" {
            memory = Some(export.ty().clone());
        }
    }
    match memory {
        Some(ExternType::Memory(ty)) => {
            let initial = u64::from(ty.minimum.0) * WASM_PAGE_SIZE as u64;
            if initial > memory_limit {
                return Err(ModuleError::MemoryTooLarge {
                    initial,
                    limit: memory_limit,
                });
            }
        }
        Some(other) => {
            return Err(export_error(
                "memory",
                format!("must be a memory, not {}", kind(&other)),
            ));
        }
        None => {
            return Err(export_error(
                "memory",
                "is missing (the module must export its linear memory)",
            ));
        }
    }
    if extism {
        // Its node types are its `() -> i32` exports, checked when it is
        // described (`extism::manifest`).
        return Ok(());
    }
    let required = REQUIRED_EXPORTS.iter().map(|signature| (signature, true));
    let optional = OPTIONAL_EXPORTS.iter().map(|signature| (signature, false));
    for (wanted, needed) in required.chain(optional) {
        let found = module.exports().find(|e| e.name() == wanted.name);
        match found.as_ref().map(wasmer::ExportType::ty) {
            Some(ExternType::Function(ty)) if matches(ty, wanted) => {}
            Some(ExternType::Function(ty)) => {
                return Err(export_error(
                    wanted.name,
                    format!("has signature {}, expected {}", show(ty), expected(wanted)),
                ));
            }
            Some(other) => {
                return Err(export_error(
                    wanted.name,
                    format!("must be a function {}, not {}", expected(wanted), kind(other)),
                ));
            }
            None if !needed => {}
            None => {
                return Err(export_error(
                    wanted.name,
                    format!("is missing (expected {})", expected(wanted)),
                ));
            }
        }
    }
    Ok(())
}

fn check_import(module: &str, name: &str, ty: &ExternType, extism: bool) -> Result<(), ModuleError> {
    let refuse = |reason: String| ModuleError::ForbiddenImport {
        module: module.to_string(),
        name: name.to_string(),
        reason,
    };
    let signature = if module == WASI_MODULE {
        match wasi::function(name) {
            Some(function) => &function.signature,
            None => return Err(refuse("not a WASI preview 1 function".into())),
        }
    } else if module == extism::EXTISM_MODULE {
        match extism::function(name) {
            Some(signature) => signature,
            None => return Err(refuse("not a function of Extism's kernel that Pocket serves".into())),
        }
    } else if module == extism::EXTISM_USER_MODULE {
        return Err(refuse(format!(
            "host functions of an Extism host application are not provided: Pocket serves Extism's kernel \
             (`{}`) only",
            extism::EXTISM_MODULE
        )));
    } else if module == IMPORT_MODULE && extism {
        return Err(refuse(
            "an Extism plugin uses Extism's kernel, not Pocket's host functions as well".into(),
        ));
    } else if module == IMPORT_MODULE {
        match HOST_IMPORTS.iter().find(|s| s.name == name) {
            Some(signature) => signature,
            None => {
                return Err(refuse(format!(
                    "unknown host function; the host provides {}",
                    provided()
                )));
            }
        }
    } else {
        return Err(refuse(format!(
            "the host provides only `{IMPORT_MODULE}` imports ({}), WASI preview 1 (`{WASI_MODULE}`) and, \
             for Extism plugins, Extism's kernel (`{}`)",
            provided(),
            extism::EXTISM_MODULE
        )));
    };
    match ty {
        ExternType::Function(ty) if matches(ty, signature) => Ok(()),
        ExternType::Function(ty) => Err(refuse(format!(
            "signature {} does not match the host's {}",
            show(ty),
            expected(signature)
        ))),
        other => Err(refuse(format!("must be a function, not {}", kind(other)))),
    }
}

fn provided() -> String {
    HOST_IMPORTS
        .iter()
        .map(|s| format!("{IMPORT_MODULE}.{}", s.name))
        .collect::<Vec<_>>()
        .join(", ")
}

fn export_error(name: &str, problem: impl Into<String>) -> ModuleError {
    ModuleError::Export {
        name: name.to_string(),
        problem: problem.into(),
    }
}

fn matches(ty: &FunctionType, signature: &Signature) -> bool {
    let same = |actual: &[wasmer::Type], wanted: &[pocket_wasm_abi::ValType]| {
        actual.iter().copied().eq(wanted.iter().map(|&t| wasmer_type(t)))
    };
    same(ty.params(), signature.params) && same(ty.results(), signature.results)
}

fn show(ty: &FunctionType) -> String {
    format!("{:?} -> {:?}", ty.params(), ty.results())
}

fn expected(signature: &Signature) -> String {
    let types = |list: &[pocket_wasm_abi::ValType]| list.iter().map(|&t| wasmer_type(t)).collect::<Vec<_>>();
    format!("{:?} -> {:?}", types(signature.params), types(signature.results))
}

fn kind(ty: &ExternType) -> &'static str {
    match ty {
        ExternType::Function(_) => "a function",
        ExternType::Global(_) => "a global",
        ExternType::Table(_) => "a table",
        ExternType::Memory(_) => "a memory",
        ExternType::Tag(_) => "a tag",
    }
}
