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
	"bytes"
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

//go:wasmexport pocket_exec
func exec(ptr, size int32) int64 {
	node, config, input, ok := split(bytesAt(ptr, size))
	if !ok {
		return respond(nil, fmt.Errorf("bad request"))
	}
	for _, nodeType := range plugin.Nodes {
		if nodeType.Type == node {
			return run(nodeType.Run, Call{Input: input, Config: config})
		}
	}
	return respond(nil, fmt.Errorf("no node type %q", node))
}

// split reads the request the host writes, `{"node":"<type>","config":{...},"input":<json>}`:
// compact, its keys in this order, `input` last (docs/wasm-abi.md), so its
// parts are found by skipping one JSON value, without decoding anything.
func split(request []byte) (node string, config, input json.RawMessage, ok bool) {
	const head, middle = `{"node":`, `,"config":`
	if !bytes.HasPrefix(request, []byte(head)) || len(request) < len(head)+2 {
		return "", nil, nil, false
	}
	rest := request[len(head):]
	end := skip(rest)
	if end < 0 || json.Unmarshal(rest[:end], &node) != nil || !bytes.HasPrefix(rest[end:], []byte(middle)) {
		return "", nil, nil, false
	}
	rest = rest[end+len(middle):]
	end = skip(rest)
	const inputKey = `,"input":`
	if end < 0 || !bytes.HasPrefix(rest[end:], []byte(inputKey)) || rest[len(rest)-1] != '}' {
		return "", nil, nil, false
	}
	return node, rest[:end], rest[end+len(inputKey) : len(rest)-1], true
}

// skip is the length of the JSON value at the start of b (compact JSON), or -1.
func skip(b []byte) int {
	depth, inString := 0, false
	for i := 0; i < len(b); i++ {
		c := b[i]
		switch {
		case inString && c == '\\':
			i++
		case c == '"':
			inString = !inString
			if !inString && depth == 0 {
				return i + 1
			}
		case inString:
		case c == '{' || c == '[':
			depth++
		case c == '}' || c == ']':
			depth--
			if depth == 0 {
				return i + 1
			}
			if depth < 0 {
				return -1
			}
		case depth == 0 && (c == ',' || c == '}'):
			return i
		}
	}
	if depth == 0 && !inString {
		return len(b)
	}
	return -1
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
	if err != nil {
		message, _ := json.Marshal(err.Error())
		return keep(append(append([]byte(`{"error":`), message...), '}'))
	}
	output, marshalErr := encode(result.Output)
	if marshalErr != nil {
		return respond(nil, fmt.Errorf("cannot encode the output: %v", marshalErr))
	}
	response := append(append(make([]byte, 0, len(output)+32), `{"output":`...), output...)
	if result.Action != "" {
		action, _ := json.Marshal(result.Action)
		response = append(append(response, `,"action":`...), action...)
	}
	return keep(append(response, '}'))
}

// encode is output as JSON; raw JSON (a node passing on its input) as it is.
func encode(output any) ([]byte, error) {
	if raw, ok := output.(json.RawMessage); ok && json.Valid(raw) {
		return raw, nil
	}
	return json.Marshal(output)
}
