//! [`FuelMeter`]: the compiler middleware that counts the fuel a guest burns
//! and stops it when the fuel runs out or the watchdog calls time.
//!
//! It appends three globals to every module it compiles: `used` (i64),
//! counted up by the compiled code; `limit` (i64), written only by the host;
//! and `length` (i32), scratch space for bulk operations. The guest's own code
//! cannot name them: they come after its globals, and its code was validated
//! against its own. Every operator costs one unit of fuel. At the end of every
//! basic block (wasmer-middlewares' accounting points) the code adds the
//! block's cost to `used` and traps if `used > limit`. A bulk memory or table
//! operation adds its length at run time, before it runs: one unit per 8 bytes
//! (`memory.fill`, `memory.copy`, `memory.init`) or per element (`table.fill`,
//! `table.copy`, `table.init`), so a `memory.fill` of 64 MiB is not one unit.
//!
//! Because the guest only ever stores to `used`, the host can stop it from
//! another thread by storing 0 into `limit` (see `watchdog`): the compiled code
//! reads `limit` at every check, so the guest traps at its next one. wasmer's
//! own `Metering` counts a single global down, and zeroing a counter that the
//! guest itself reads, decrements and writes back loses the race: in a tight
//! loop the guest's write-back overwrote the zero for seconds at a time.

use std::sync::Mutex;

use wasmer::sys::{FunctionMiddleware, MiddlewareError, MiddlewareReaderState, ModuleMiddleware};
use wasmer::wasmparser::{BlockType, Operator};
use wasmer::{ExportIndex, GlobalInit, GlobalType, LocalFunctionIndex, ModuleInfo, Mutability, Type};
use wasmer_middlewares::metering::is_accounting;

/// The export naming the fuel a call has used so far (i64, read as unsigned).
pub(crate) const USED: &str = "pocket_fuel_used";
/// The export naming the fuel a call may use (i64, read as unsigned).
pub(crate) const LIMIT: &str = "pocket_fuel_limit";

/// Bytes of a bulk memory operation per unit of fuel (as a shift: 8 bytes).
const MEMORY_BYTES_SHIFT: i64 = 3;

/// The indexes of the globals the generated code uses.
#[derive(Debug, Clone, Copy)]
struct Globals {
    used: u32,
    limit: u32,
    length: u32,
}

/// The module middleware. Like wasmer's `Metering`, one instance transforms
/// one module: the compiler that carries it must compile nothing else.
#[derive(Debug)]
pub(crate) struct FuelMeter {
    initial_limit: u64,
    globals: Mutex<Option<Globals>>,
}

impl FuelMeter {
    /// A meter whose modules start with `initial_limit` units of fuel (the
    /// host sets each call's own budget before the call).
    pub(crate) fn new(initial_limit: u64) -> FuelMeter {
        FuelMeter {
            initial_limit,
            globals: Mutex::new(None),
        }
    }

    fn globals(&self) -> std::sync::MutexGuard<'_, Option<Globals>> {
        self.globals.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl ModuleMiddleware for FuelMeter {
    fn generate_function_middleware<'a>(&self, _: LocalFunctionIndex) -> Box<dyn FunctionMiddleware<'a> + 'a> {
        Box::new(FunctionFuelMeter {
            globals: *self.globals(),
            pending: 0,
        })
    }

    fn transform_module_info(&self, module_info: &mut ModuleInfo) -> Result<(), MiddlewareError> {
        let mut globals = self.globals();
        if globals.is_some() {
            return Err(MiddlewareError::new(
                "FuelMeter",
                "one FuelMeter was asked to transform a second module",
            ));
        }
        let mut add = |ty: Type, init: GlobalInit, export: Option<&str>| {
            let index = module_info.globals.push(GlobalType::new(ty, Mutability::Var));
            module_info.global_initializers.push(init);
            if let Some(name) = export {
                module_info.exports.insert(name.to_string(), ExportIndex::Global(index));
            }
            index.as_u32()
        };
        let used = add(Type::I64, GlobalInit::I64Const(0), Some(USED));
        // The points are an unsigned count in an i64 global.
        let limit = add(Type::I64, GlobalInit::I64Const(self.initial_limit as i64), Some(LIMIT));
        let length = add(Type::I32, GlobalInit::I32Const(0), None);
        *globals = Some(Globals { used, limit, length });
        Ok(())
    }
}

/// The per-function half of [`FuelMeter`].
#[derive(Debug)]
struct FunctionFuelMeter {
    globals: Option<Globals>,
    /// The cost of the operators fed since the last accounting point.
    pending: u64,
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

impl<'a> FunctionMiddleware<'a> for FunctionFuelMeter {
    fn feed(&mut self, operator: Operator<'a>, state: &mut MiddlewareReaderState<'a>) -> Result<(), MiddlewareError> {
        let Some(globals) = self.globals else {
            return Err(MiddlewareError::new(
                "FuelMeter",
                "a function was fed before its module was transformed",
            ));
        };
        self.pending += 1;
        let pending = Operator::I64Const {
            value: self.pending as i64,
        };
        if let Some(shift) = length_shift(&operator) {
            // length = pop(); used += pending + (length >> shift); check; push(length)
            state.extend(&[
                Operator::GlobalSet {
                    global_index: globals.length,
                },
                Operator::GlobalGet {
                    global_index: globals.used,
                },
                Operator::GlobalGet {
                    global_index: globals.length,
                },
                Operator::I64ExtendI32U,
                Operator::I64Const { value: shift },
                Operator::I64ShrU,
                Operator::I64Add,
                pending,
                Operator::I64Add,
            ]);
            set_used_and_check(globals, state);
            state.push_operator(Operator::GlobalGet {
                global_index: globals.length,
            });
            self.pending = 0;
        } else if is_accounting(&operator) {
            // used += pending; check
            state.extend(&[
                Operator::GlobalGet {
                    global_index: globals.used,
                },
                pending,
                Operator::I64Add,
            ]);
            set_used_and_check(globals, state);
            self.pending = 0;
        }
        state.push_operator(operator);
        Ok(())
    }
}

/// Stores the new count on top of the stack into `used`, then traps if it is over `limit`.
fn set_used_and_check(globals: Globals, state: &mut MiddlewareReaderState<'_>) {
    state.extend(&[
        Operator::GlobalSet {
            global_index: globals.used,
        },
        Operator::GlobalGet {
            global_index: globals.used,
        },
        Operator::GlobalGet {
            global_index: globals.limit,
        },
        Operator::I64GtU,
        Operator::If {
            blockty: BlockType::Empty,
        },
        Operator::Unreachable,
        Operator::End,
    ]);
}

#[cfg(test)]
mod tests {
    use wasmer::{Imports, Instance, Module, Store, TypedFunction, Value};

    use super::{LIMIT, USED};
    use crate::engine::new_engine;

    /// `count(n)` loops n times; `fill(n)` fills n bytes of memory.
    const GUEST: &str = r#"(module
      (memory 1)
      (func (export "count") (param $n i32)
        (loop $again
          (local.set $n (i32.sub (local.get $n) (i32.const 1)))
          (br_if $again (i32.gt_s (local.get $n) (i32.const 0)))))
      (func (export "fill") (param $n i32)
        (memory.fill (i32.const 0) (i32.const 7) (local.get $n))))"#;

    struct Guest {
        store: Store,
        instance: Instance,
    }

    impl Guest {
        fn new() -> Guest {
            let mut store = Store::new(new_engine(true));
            let module = Module::new(&store, GUEST).unwrap();
            let instance = Instance::new(&mut store, &module, &Imports::new()).unwrap();
            Guest { store, instance }
        }

        fn global(&mut self, name: &str) -> u64 {
            let global = self.instance.exports.get_global(name).unwrap();
            global.get(&mut self.store).unwrap_i64() as u64
        }

        /// Runs `function(n)` with `limit` fuel: whether it finished, and the fuel used.
        fn run(&mut self, function: &str, n: i32, limit: u64) -> (bool, u64) {
            let exports = &self.instance.exports;
            exports
                .get_global(USED)
                .unwrap()
                .set(&mut self.store, Value::I64(0))
                .unwrap();
            exports
                .get_global(LIMIT)
                .unwrap()
                .set(&mut self.store, Value::I64(limit as i64))
                .unwrap();
            let call: TypedFunction<i32, ()> = exports.get_typed_function(&self.store, function).unwrap();
            let finished = call.call(&mut self.store, n).is_ok();
            (finished, self.global(USED))
        }
    }

    #[test]
    fn every_loop_iteration_costs_the_same_fuel() {
        let mut guest = Guest::new();
        let (_, one) = guest.run("count", 1, u64::MAX >> 1);
        let (_, eleven) = guest.run("count", 11, u64::MAX >> 1);
        let (_, twenty_one) = guest.run("count", 21, u64::MAX >> 1);
        assert!(one > 0);
        assert_eq!(twenty_one - eleven, eleven - one, "cost is linear in iterations");
        assert!(eleven > one);
    }

    #[test]
    fn a_call_stops_when_its_fuel_runs_out_and_reports_more_used_than_allowed() {
        let mut guest = Guest::new();
        let (finished, used) = guest.run("count", 1_000_000, 500);
        assert!(!finished, "the loop must trap");
        assert!(used > 500, "used {used}");
        let (finished, used) = guest.run("count", 10, 500);
        assert!(finished, "the next call has fresh fuel");
        assert!(used <= 500);
    }

    #[test]
    fn bulk_memory_pays_one_unit_per_eight_bytes() {
        let mut guest = Guest::new();
        let (_, none) = guest.run("fill", 0, u64::MAX >> 1);
        let (_, some) = guest.run("fill", 8_000, u64::MAX >> 1);
        assert_eq!(some - none, 1_000);
        let (finished, _) = guest.run("fill", 65_536, 1_000);
        assert!(!finished, "a fill costing 8192 units cannot run on 1000");
    }

    #[test]
    fn one_meter_refuses_a_second_module() {
        let engine = new_engine(true);
        Module::new(&engine, GUEST).unwrap();
        let second = Module::new(&engine, GUEST).expect_err("refused").to_string();
        assert!(second.contains("second module"), "{second}");
    }
}
