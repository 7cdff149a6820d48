//! [`FuelMeter`]: the compiler middleware that counts the fuel a guest burns
//! and stops it when the fuel runs out or the watchdog calls time.
//!
//! It appends three globals to every module it compiles: `used` (i64),
//! counted up by the compiled code; `limit` (i64), written only by the host;
//! and `length` (i32), scratch space for bulk operations. The guest's own code
//! cannot name them: they come after its globals, and its code was validated
//! against its own. Every operator costs one unit of fuel, except the structure
//! operators that compile to no instruction (`block`, `loop`, `end`, `nop`):
//! an interpreter compiled to wasm (QuickJS, CPython) dispatches with a
//! `br_table` into hundreds of nested blocks, and paid for each of them on
//! every step of the program it interprets. At the end of every
//! basic block (wasmer-middlewares' accounting points) the code adds the
//! block's cost to `used`. A bulk memory or table operation adds its length at
//! run time, before it runs: one unit per 8 bytes (`memory.fill`,
//! `memory.copy`, `memory.init`) or per element (`table.fill`, `table.copy`,
//! `table.init`), so a `memory.fill` of 64 MiB is not one unit.
//!
//! The code traps if `used > limit` at the points where execution can go on
//! for ever, and only there: before every branch back to a loop's start,
//! every call, and every bulk operation. Between two such points a guest can
//! only run forward through one function's code, so a call overruns its fuel
//! by at most that much, and the checks cost nothing on the forward branches
//! that make up most of compiled code.
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
pub(crate) const MEMORY_BYTES_SHIFT: i64 = 3;

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
        self.globals.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl ModuleMiddleware for FuelMeter {
    fn generate_function_middleware<'a>(&self, _: LocalFunctionIndex) -> Box<dyn FunctionMiddleware<'a> + 'a> {
        Box::new(FunctionFuelMeter {
            globals: *self.globals(),
            pending: 0,
            frames: Vec::new(),
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
        let limit = add(
            Type::I64,
            GlobalInit::I64Const(self.initial_limit.cast_signed()),
            Some(LIMIT),
        );
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
    /// The blocks open at the operator being fed, innermost last: whether
    /// each is a loop (a branch to a loop goes back to its start).
    frames: Vec<Frame>,
}

/// A block the function's code is inside.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Frame {
    /// `loop`: branching to it starts it again.
    Loop,
    /// `block`, `if`, `try`: branching to it jumps past its end.
    Forward,
}

impl FunctionFuelMeter {
    /// Whether a branch `depth` blocks out goes back to a loop's start.
    fn goes_back(&self, depth: u32) -> bool {
        let depth = depth as usize;
        depth < self.frames.len() && self.frames[self.frames.len() - 1 - depth] == Frame::Loop
    }

    /// Whether execution can repeat at `operator`, so the fuel must be
    /// checked there: a branch back to a loop, a call, anything that is not
    /// known to only go forward.
    fn may_repeat(&self, operator: &Operator) -> bool {
        match operator {
            Operator::End | Operator::If { .. } | Operator::Else | Operator::Loop { .. } | Operator::Return => false,
            Operator::Br { relative_depth } | Operator::BrIf { relative_depth } => self.goes_back(*relative_depth),
            Operator::BrTable { targets } => {
                self.goes_back(targets.default())
                    || targets
                        .targets()
                        .any(|target| target.map_or(true, |depth| self.goes_back(depth)))
            }
            _ => true,
        }
    }

    /// Opens or closes the block `operator` starts or ends.
    fn track_blocks(&mut self, operator: &Operator) {
        match operator {
            Operator::Loop { .. } => self.frames.push(Frame::Loop),
            Operator::Block { .. } | Operator::If { .. } | Operator::Try { .. } | Operator::TryTable { .. } => {
                self.frames.push(Frame::Forward);
            }
            Operator::End | Operator::Delegate { .. } => {
                self.frames.pop();
            }
            _ => {}
        }
    }
}

/// What `operator` costs: one unit, or nothing for the structure operators
/// that compile to no instruction. Nothing runs for ever on them alone: a
/// loop repeats only through a branch, which costs.
fn cost(operator: &Operator) -> u64 {
    match operator {
        Operator::Block { .. } | Operator::Loop { .. } | Operator::End | Operator::Nop => 0,
        _ => 1,
    }
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
        self.pending += cost(&operator);
        let pending = Operator::I64Const {
            value: self.pending.cast_signed(),
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
            set_used(globals, state);
            check(globals, state);
            state.push_operator(Operator::GlobalGet {
                global_index: globals.length,
            });
            self.pending = 0;
        } else if is_accounting(&operator) {
            // used += pending; check if the code can repeat from here
            state.extend(&[
                Operator::GlobalGet {
                    global_index: globals.used,
                },
                pending,
                Operator::I64Add,
            ]);
            set_used(globals, state);
            if self.may_repeat(&operator) {
                check(globals, state);
            }
            self.pending = 0;
        }
        self.track_blocks(&operator);
        state.push_operator(operator);
        Ok(())
    }
}

/// Stores the new count on top of the stack into `used`.
fn set_used(globals: Globals, state: &mut MiddlewareReaderState<'_>) {
    state.push_operator(Operator::GlobalSet {
        global_index: globals.used,
    });
}

/// Traps if `used` is over `limit`.
fn check(globals: Globals, state: &mut MiddlewareReaderState<'_>) {
    state.extend(&[
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

    /// `count(n)` loops n times; `fill(n)` fills n bytes of memory;
    /// `branchy(n)` loops for ever through forward branches and a
    /// `br_table` back; `recurse(n)` calls itself for ever, with no loop.
    const GUEST: &str = r#"(module
      (memory 1)
      (func (export "count") (param $n i32)
        (loop $again
          (local.set $n (i32.sub (local.get $n) (i32.const 1)))
          (br_if $again (i32.gt_s (local.get $n) (i32.const 0)))))
      (func (export "fill") (param $n i32)
        (memory.fill (i32.const 0) (i32.const 7) (local.get $n)))
      (func (export "branchy") (param $n i32)
        (loop $again
          (block $skip
            (br_if $skip (i32.eqz (local.get $n)))
            (if (i32.gt_s (local.get $n) (i32.const 2))
              (then (local.set $n (i32.sub (local.get $n) (i32.const 1))))
              (else (local.set $n (i32.const 0)))))
          (br_table $again $again (local.get $n))))
      (func $recurse (export "recurse") (param $n i32)
        (call $recurse (i32.add (local.get $n) (i32.const 1))))
      (func (export "flat") (param $n i32)
        (drop (local.get $n)))
      (func (export "nested") (param $n i32)
        (block (block (block (block (block (block (block (block
          (drop (local.get $n)) (nop) (nop)))))))))))"#;

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
            global.get(&mut self.store).unwrap_i64().cast_unsigned()
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
                .set(&mut self.store, Value::I64(limit.cast_signed()))
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
    fn loops_through_forward_branches_and_branch_tables_stop_at_their_fuel() {
        let mut guest = Guest::new();
        let (finished, used) = guest.run("branchy", 5, 1_000);
        assert!(!finished, "the loop must trap");
        // Fuel is checked at the branch back: a call overruns its limit by
        // at most one pass through the loop's body.
        assert!(used > 1_000 && used < 1_050, "used {used}");
    }

    #[test]
    fn recursion_without_loops_stops_at_its_fuel() {
        let mut guest = Guest::new();
        let (finished, used) = guest.run("recurse", 0, 500);
        assert!(!finished, "the recursion must trap");
        assert!(used > 500 && used < 520, "used {used}");
    }

    #[test]
    fn blocks_that_compile_to_nothing_cost_nothing() {
        let mut guest = Guest::new();
        let (_, flat) = guest.run("flat", 0, u64::MAX >> 1);
        let (_, nested) = guest.run("nested", 0, u64::MAX >> 1);
        assert_eq!(flat, nested, "eight blocks and two nops add nothing");
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
