;; A hand-written Pocket WASM plugin (ABI v1) in WebAssembly text.
;; Node `hello` answers {"output":{"message":"hello from wat"}} whatever its input.
(module
  (import "pocket" "log" (func $log (param i32 i32 i32)))
  (memory (export "memory") 1)
  ;; A bump allocator that starts over when every buffer is freed.
  (global $top (mut i32) (i32.const 4096))
  (global $live (mut i32) (i32.const 0))
  (data (i32.const 16) "{\"name\":\"hello-wat\",\"version\":\"1.0.0\",\"description\":\"Hand-written WebAssembly text plugin\",\"permissions\":[\"log\"],\"nodes\":[{\"type\":\"hello\",\"description\":\"Says hello\"}]}")
  (data (i32.const 1024) "{\"output\":{\"message\":\"hello from wat\"}}")
  (data (i32.const 1100) "hello node called")
  (func (export "pocket_abi_version") (result i32) (i32.const 1))
  (func (export "pocket_alloc") (param $len i32) (result i32)
    (local $p i32)
    (local.set $p (global.get $top))
    (global.set $top (i32.add (global.get $top) (local.get $len)))
    (if (i32.gt_u (global.get $top) (i32.const 65536))
      (then (global.set $top (local.get $p)) (return (i32.const 0))))
    (global.set $live (i32.add (global.get $live) (i32.const 1)))
    (local.get $p))
  (func (export "pocket_free") (param i32 i32)
    (global.set $live (i32.sub (global.get $live) (i32.const 1)))
    (if (i32.le_s (global.get $live) (i32.const 0))
      (then (global.set $live (i32.const 0)) (global.set $top (i32.const 4096)))))
  ;; (16 << 32) | 167
  (func (export "pocket_describe") (result i64) (i64.const 68719476903))
  ;; (1024 << 32) | 39
  (func (export "pocket_exec") (param i32 i32) (result i64)
    (call $log (i32.const 1) (i32.const 1100) (i32.const 17))
    (i64.const 4398046511143)))
