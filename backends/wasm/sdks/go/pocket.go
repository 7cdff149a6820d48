//go:build wasip1

// Package pocket writes Pocket WASM plugins in Go: register a plugin and its
// node types in an init function, build with
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o NAME.wasm
//
// and drop NAME.wasm into a plugin directory. The package speaks Pocket's
// WASM ABI version 1 (docs/wasm-abi.md): it exports pocket_abi_version,
// pocket_alloc, pocket_free, pocket_describe and pocket_exec, and reaches
// the host through the `pocket` imports. It uses the standard library only.
package pocket

import (
	"encoding/json"
	"fmt"
	"unsafe"
)

// Node runs one call of a node type: the node's input and its config (both
// JSON), and what it gives back.
type Node func(call Call) (Result, error)

// Call is what one node call gets.
type Call struct {
	// Input is the node's input, as JSON.
	Input json.RawMessage
	// Config is the node's config, as JSON (an object, defaults filled in).
	Config json.RawMessage
}

// Result is a node's output and, optionally, the action it takes ("" for
// the default one).
type Result struct {
	Output any
	Action string
}

// Output is a Result with the default action.
func Output(output any) Result { return Result{Output: output} }

// NodeType describes one node type and runs it.
type NodeType struct {
	Type         string            `json:"type"`
	Description  string            `json:"description"`
	ConfigSchema json.RawMessage   `json:"config_schema,omitempty"`
	Examples     []json.RawMessage `json:"examples,omitempty"`
	Run          Node              `json:"-"`
}

// Plugin is what a plugin says about itself and the node types it provides.
type Plugin struct {
	Name        string     `json:"name"`
	Version     string     `json:"version"`
	Description string     `json:"description"`
	Author      string     `json:"author"`
	Permissions []string   `json:"permissions,omitempty"`
	Nodes       []NodeType `json:"nodes"`
}

var plugin *Plugin

// Register makes p the plugin this module provides; call it from init.
func Register(p Plugin) { plugin = &p }

// buffers keeps every buffer the host holds alive (Go's collector does not
// move objects, so an address stays valid while it is listed here).
var buffers = map[uint32][]byte{}

func address(b []byte) uint32 { return uint32(uintptr(unsafe.Pointer(&b[0]))) }

func keep(b []byte) int64 {
	if len(b) == 0 {
		return 0
	}
	at := address(b)
	buffers[at] = b
	return int64(uint64(at)<<32 | uint64(uint32(len(b))))
}

// bytesAt is the guest memory at (ptr, len), without copying.
func bytesAt(ptr, size int32) []byte {
	if size <= 0 {
		return nil
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(uintptr(uint32(ptr)))), size)
}

//go:wasmexport pocket_abi_version
func abiVersion() int32 { return 1 }

//go:wasmexport pocket_alloc
func alloc(size int32) int32 {
	if size < 1 {
		size = 1
	}
	b := make([]byte, size)
	at := address(b)
	buffers[at] = b
	return int32(at)
}

//go:wasmexport pocket_free
func free(ptr, size int32) { delete(buffers, uint32(ptr)) }

//go:wasmexport pocket_describe
func describe() int64 {
	if plugin == nil {
		return 0
	}
	description, err := json.Marshal(plugin)
	if err != nil {
		return 0
	}
	return keep(description)
}

type request struct {
	Node   string          `json:"node"`
	Config json.RawMessage `json:"config"`
	Input  json.RawMessage `json:"input"`
}

//go:wasmexport pocket_exec
func exec(ptr, size int32) int64 {
	var req request
	if err := json.Unmarshal(bytesAt(ptr, size), &req); err != nil {
		return respond(nil, fmt.Errorf("bad request: %v", err))
	}
	for _, node := range plugin.Nodes {
		if node.Type == req.Node {
			return run(node.Run, Call{Input: req.Input, Config: req.Config})
		}
	}
	return respond(nil, fmt.Errorf("no node type %q", req.Node))
}

// run calls node, reporting a panic with its message as the node's error.
func run(node Node, call Call) (packed int64) {
	defer func() {
		if recovered := recover(); recovered != nil {
			packed = respond(nil, fmt.Errorf("panicked: %v", recovered))
		}
	}()
	result, err := node(call)
	return respond(&result, err)
}

func respond(result *Result, err error) int64 {
	var answer map[string]any
	if err != nil {
		answer = map[string]any{"error": err.Error()}
	} else {
		answer = map[string]any{"output": result.Output}
		if result.Action != "" {
			answer["action"] = result.Action
		}
	}
	response, marshalErr := json.Marshal(answer)
	if marshalErr != nil {
		response, _ = json.Marshal(map[string]any{"error": "cannot encode the output: " + marshalErr.Error()})
	}
	return keep(response)
}
