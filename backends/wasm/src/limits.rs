//! How each limit is enforced, and the node error each one produces.
//!
//! - `memory`: [`MemoryCap`], the tunables of every plugin's stores, gives
//!   each linear memory a maximum of the limit: `memory.grow` past it returns
//!   -1, and a module whose initial memory is larger is refused at load.
//! - `fuel`: wasmer-middlewares metering, reset before every call.
//! - `timeout`: the [`crate::watchdog`], plus the deadline each host function
//!   passes to its own I/O.
//! - tables: [`MemoryCap`] also caps every table at [`MAX_TABLE_ELEMENTS`]:
//!   `table.grow` past it returns -1, and a module whose initial tables are
//!   larger fails to instantiate, so it is refused at load.
//! - stack: wasmer's guard page turns unbounded recursion into a trap.

use std::ptr::NonNull;
use std::time::Duration;

use pocket_core::{Limit, NodeError, format_duration};
use wasmer::sys::vm::{MemoryError, MemoryStyle, TableStyle, VMMemory, VMMemoryDefinition, VMTable, VMTableDefinition};
use wasmer::sys::{BaseTunables, Tunables};
use wasmer::{MemoryType, Pages, TableType, WASM_PAGE_SIZE};

/// The most elements one table may hold (16 bytes each: 1.6 MB). Real
/// modules' function tables hold hundreds to a few thousand.
pub const MAX_TABLE_ELEMENTS: u32 = 100_000;

/// Tunables capping every linear memory at a byte limit and every table at
/// [`MAX_TABLE_ELEMENTS`].
pub(crate) struct MemoryCap {
    base: BaseTunables,
    limit: u64,
}

impl MemoryCap {
    /// Caps memories at `limit` bytes (rounded down to whole 64 KiB pages).
    pub(crate) fn new(limit: u64) -> Self {
        MemoryCap {
            base: BaseTunables::new(),
            limit,
        }
    }

    fn max_pages(&self) -> u32 {
        u32::try_from(self.limit / WASM_PAGE_SIZE as u64).unwrap_or(u32::MAX)
    }

    /// `ty` with its maximum lowered to the cap; an error if its minimum is above it.
    fn capped(&self, ty: &MemoryType) -> Result<MemoryType, MemoryError> {
        let cap = Pages(self.max_pages());
        if ty.minimum > cap {
            return Err(MemoryError::MinimumMemoryTooLarge {
                min_requested: ty.minimum,
                max_allowed: cap,
            });
        }
        let mut capped = *ty;
        capped.maximum = Some(ty.maximum.map_or(cap, |m| m.min(cap)));
        Ok(capped)
    }
}

impl Tunables for MemoryCap {
    fn memory_style(&self, memory: &MemoryType) -> MemoryStyle {
        self.base.memory_style(memory)
    }

    fn table_style(&self, table: &TableType) -> TableStyle {
        self.base.table_style(table)
    }

    fn create_host_memory(&self, ty: &MemoryType, style: &MemoryStyle) -> Result<VMMemory, MemoryError> {
        self.base.create_host_memory(&self.capped(ty)?, style)
    }

    unsafe fn create_vm_memory(
        &self,
        ty: &MemoryType,
        style: &MemoryStyle,
        vm_definition_location: NonNull<VMMemoryDefinition>,
    ) -> Result<VMMemory, MemoryError> {
        let capped = self.capped(ty)?;
        // SAFETY: wasmer calls this with a valid definition location for this
        // memory (the trait's contract); we pass it on unchanged with a type
        // whose maximum is only lowered, which the style computed for `ty` covers.
        unsafe { self.base.create_vm_memory(&capped, style, vm_definition_location) }
    }

    fn create_host_table(&self, ty: &TableType, style: &TableStyle) -> Result<VMTable, String> {
        self.base.create_host_table(&capped_table(ty)?, style)
    }

    unsafe fn create_vm_table(
        &self,
        ty: &TableType,
        style: &TableStyle,
        vm_definition_location: NonNull<VMTableDefinition>,
    ) -> Result<VMTable, String> {
        let capped = capped_table(ty)?;
        // SAFETY: forwarded under the same contract wasmer called us with; the
        // type's maximum is only lowered, which the style computed for `ty` covers.
        unsafe { self.base.create_vm_table(&capped, style, vm_definition_location) }
    }
}

/// `ty` with its maximum lowered to [`MAX_TABLE_ELEMENTS`]; an error if its
/// minimum is above it.
fn capped_table(ty: &TableType) -> Result<TableType, String> {
    if ty.minimum > MAX_TABLE_ELEMENTS {
        return Err(format!(
            "a table of {} elements exceeds the table limit of {MAX_TABLE_ELEMENTS} elements",
            ty.minimum
        ));
    }
    let mut capped = *ty;
    capped.maximum = Some(ty.maximum.map_or(MAX_TABLE_ELEMENTS, |m| m.min(MAX_TABLE_ELEMENTS)));
    Ok(capped)
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct Culprit<'a> {
    pub plugin: &'a str,
    pub node_type: &'a str,
    pub node: &'a str,
}

impl std::fmt::Display for Culprit<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "wasm plugin `{}` (node `{}`, type `{}`)",
            self.plugin, self.node, self.node_type
        )
    }
}

/// The node error for `limit`, naming plugin, node and limit; the call ran
/// under `timeout` (the plugin's, or the node's when tighter).
pub(crate) fn node_error(
    limit: Limit,
    culprit: Culprit<'_>,
    limits: &pocket_core::Limits,
    timeout: Duration,
) -> NodeError {
    let detail = match limit {
        Limit::Memory => format!("{culprit} needed more than {} bytes of linear memory", limits.memory),
        Limit::Fuel => format!("{culprit} used more than {} fuel in one call", limits.fuel),
        Limit::Timeout => format!("{culprit} ran longer than {}", format_duration(timeout)),
        _ => format!("{culprit} overflowed the call stack"),
    };
    NodeError::LimitExceeded { limit, detail }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_types_are_capped_and_oversized_minimums_refused() {
        let cap = MemoryCap::new(4 * WASM_PAGE_SIZE as u64);
        let capped = cap.capped(&MemoryType::new(1, None, false)).unwrap();
        assert_eq!(capped.maximum, Some(Pages(4)));
        let capped = cap.capped(&MemoryType::new(1, Some(2), false)).unwrap();
        assert_eq!(capped.maximum, Some(Pages(2)));
        assert!(cap.capped(&MemoryType::new(5, None, false)).is_err());
    }
}
