//! [`BulkFuel`]: a compiler middleware that charges bulk memory and table
//! operations by their length.
//!
//! wasmer's `Metering` charges each operator a cost fixed at compile time, so
//! a `memory.fill` of 64 MiB cost one unit of fuel, and a loop of them ran
//! until the wall clock stopped it. This middleware, chained after
//! `Metering`, reads the length operand at run time and takes
//! `length / 8` units (`memory.fill`, `memory.copy`, `memory.init`) or
//! `length` units (`table.fill`, `table.copy`, `table.init`) from the same
//! fuel counter before the operation runs; when the fuel left is smaller, the
//! guest traps as out of fuel, exactly as `Metering` would.

use std::sync::Mutex;

use wasmer::sys::{FunctionMiddleware, MiddlewareError, MiddlewareReaderState, ModuleMiddleware};
use wasmer::wasmparser::{BlockType, Operator};
use wasmer::{ExportIndex, GlobalInit, GlobalType, LocalFunctionIndex, ModuleInfo, Mutability, Type};

/// Bytes of a bulk memory operation per unit of fuel (as a shift: 8 bytes).
const MEMORY_BYTES_SHIFT: i64 = 3;

/// The globals the generated code uses.
#[derive(Debug, Clone, Copy)]
struct Globals {
    /// `Metering`'s remaining fuel (i64).
    remaining: u32,
    /// `Metering`'s exhausted flag (i32).
    exhausted: u32,
    /// Where the length operand is held while its cost is taken (i32).
    length: u32,
}

/// The module middleware; one per module, like `Metering` (push it on the
/// same compiler, after `Metering`).
#[derive(Debug, Default)]
pub(crate) struct BulkFuel {
    globals: Mutex<Option<Globals>>,
}

impl ModuleMiddleware for BulkFuel {
    fn generate_function_middleware<'a>(&self, _: LocalFunctionIndex) -> Box<dyn FunctionMiddleware<'a> + 'a> {
        let globals = *self.globals.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        Box::new(FunctionBulkFuel { globals })
    }

    fn transform_module_info(&self, module_info: &mut ModuleInfo) -> Result<(), MiddlewareError> {
        let global = |name: &str| match module_info.exports.get(name) {
            Some(ExportIndex::Global(index)) => Ok(index.as_u32()),
            _ => Err(MiddlewareError::new(
                "BulkFuel",
                format!("no `{name}` global: push BulkFuel after wasmer's Metering"),
            )),
        };
        let remaining = global("wasmer_metering_remaining_points")?;
        let exhausted = global("wasmer_metering_points_exhausted")?;
        let length = module_info.globals.push(GlobalType::new(Type::I32, Mutability::Var));
        module_info.global_initializers.push(GlobalInit::I32Const(0));
        let mut globals = self.globals.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        *globals = Some(Globals {
            remaining,
            exhausted,
            length: length.as_u32(),
        });
        Ok(())
    }
}

/// The per-function half of [`BulkFuel`].
#[derive(Debug)]
struct FunctionBulkFuel {
    globals: Option<Globals>,
}

/// How many bits of a bulk operation's length one unit of fuel covers, for
/// the operators that have a length operand on top of the stack.
fn length_shift(operator: &Operator) -> Option<i64> {
    match operator {
        Operator::MemoryFill { .. } | Operator::MemoryCopy { .. } | Operator::MemoryInit { .. } => {
            Some(MEMORY_BYTES_SHIFT)
        }
        Operator::TableFill { .. } | Operator::TableCopy { .. } | Operator::TableInit { .. } => Some(0),
        _ => None,
    }
}

impl<'a> FunctionMiddleware<'a> for FunctionBulkFuel {
    fn feed(&mut self, operator: Operator<'a>, state: &mut MiddlewareReaderState<'a>) -> Result<(), MiddlewareError> {
        if let (Some(globals), Some(shift)) = (self.globals, length_shift(&operator)) {
            let cost = [
                Operator::GlobalGet {
                    global_index: globals.length,
                },
                Operator::I64ExtendI32U,
                Operator::I64Const { value: shift },
                Operator::I64ShrU,
            ];
            // length = pop(); if remaining < cost { exhausted = 1; trap }
            state.push_operator(Operator::GlobalSet {
                global_index: globals.length,
            });
            state.push_operator(Operator::GlobalGet {
                global_index: globals.remaining,
            });
            state.extend(&cost);
            state.extend(&[
                Operator::I64LtU,
                Operator::If {
                    blockty: BlockType::Empty,
                },
                Operator::I32Const { value: 1 },
                Operator::GlobalSet {
                    global_index: globals.exhausted,
                },
                Operator::Unreachable,
                Operator::End,
                // remaining -= cost; push(length)
                Operator::GlobalGet {
                    global_index: globals.remaining,
                },
            ]);
            state.extend(&cost);
            state.extend(&[
                Operator::I64Sub,
                Operator::GlobalSet {
                    global_index: globals.remaining,
                },
                Operator::GlobalGet {
                    global_index: globals.length,
                },
            ]);
        }
        state.push_operator(operator);
        Ok(())
    }
}
