// Package process writes Pocket process plugins in Go, with the standard
// library only.
//
// A plugin is a program Pocket starts and talks to over its stdin and
// stdout (docs/process-protocol.md). This package speaks that protocol, so a
// plugin is its node functions:
//
//	p := process.New("go-stats", "1.0.0", "Statistics", []string{"log"})
//	p.Node(process.NodeType{Type: "mean", Description: "The mean of numbers"},
//		func(input json.RawMessage, config json.RawMessage, ctx *process.Context) (any, error) {
//			var xs []float64
//			if err := json.Unmarshal(input, &xs); err != nil {
//				return nil, process.InvalidInput("expected a list of numbers")
//			}
//			...
//		})
//	p.Run()
//
// A node function gets the node's input and config as JSON and a Context for
// host calls (log, kv, config, env, HTTP, plugin calls, each checked by the
// host against the plugin's grants); it returns the output (any value
// encoding/json can encode, or an Action to choose the next edge) or an
// error (InvalidInput and InvalidConfig say which kind). Calls run on
// goroutines, several at once.
package process

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
)

// Protocol is the protocol version this package speaks.
const Protocol = 1

// MaxFrame is the largest frame either side sends.
const MaxFrame = 64 << 20

// NodeType describes a node type.
type NodeType struct {
	Type         string           `json:"type"`
	Description  string           `json:"description"`
	ConfigSchema json.RawMessage  `json:"config_schema,omitempty"`
	Examples     []map[string]any `json:"examples,omitempty"`
	// Prepare, if set, checks a workflow node's config when the workflow
	// is validated; an error refuses it.
	Prepare func(config json.RawMessage) error `json:"-"`
}

// Func runs a node.
type Func func(input, config json.RawMessage, ctx *Context) (any, error)

// Action is an output and the action (edge) the node chose.
type Action struct {
	Output any
	Action string
}

type kindError struct {
	kind, message string
}

func (e *kindError) Error() string { return e.message }

// InvalidInput fails a node because it cannot use its input.
func InvalidInput(message string) error { return &kindError{"invalid_input", message} }

// InvalidConfig fails a node because its config is unusable.
func InvalidConfig(message string) error { return &kindError{"invalid_config", message} }

// Plugin is a plugin: its description and node functions.
type Plugin struct {
	Name, Version, Description, Author string
	Permissions                        []string

	nodes   []NodeType
	funcs   map[string]Func
	out     *os.File
	writeMu sync.Mutex
	hostMu  sync.Mutex
	hostID  uint64
	waiting map[uint64]chan hostAnswer
}

type hostAnswer struct {
	value json.RawMessage
	err   error
}

// New makes a plugin.
func New(name, version, description string, permissions []string) *Plugin {
	return &Plugin{Name: name, Version: version, Description: description, Permissions: permissions,
		funcs: map[string]Func{}, waiting: map[uint64]chan hostAnswer{}}
}

// Node registers fn as node type t.
func (p *Plugin) Node(t NodeType, fn Func) {
	p.nodes = append(p.nodes, t)
	p.funcs[t.Type] = fn
}

// Context gives a node call its host calls.
type Context struct {
	plugin  *Plugin
	call    uint64
	Attempt int
}

func (c *Context) host(function string, args map[string]any) (json.RawMessage, error) {
	return c.plugin.hostCall(c.call, function, args)
}

// Log writes to Pocket's log (`log` grant): debug, info, warn or error.
func (c *Context) Log(level, message string) error {
	_, err := c.host("log", map[string]any{"level": level, "message": message})
	return err
}

// KvGet reads the run's value under key in the plugin's namespace (`kv`); null if none.
func (c *Context) KvGet(key string) (json.RawMessage, error) {
	return c.host("kv_get", map[string]any{"key": key})
}

// KvSet sets the run's key in the plugin's namespace (`kv`).
func (c *Context) KvSet(key string, value any) error {
	_, err := c.host("kv_set", map[string]any{"key": key, "value": value})
	return err
}

// Config reads the plugin config's value under key; null if none.
func (c *Context) Config(key string) (json.RawMessage, error) {
	return c.host("config_get", map[string]any{"key": key})
}

// Env reads a variable an `env:` grant names; null if not set.
func (c *Context) Env(name string) (json.RawMessage, error) {
	return c.host("env_get", map[string]any{"name": name})
}

// HTTP sends a request through the host (`http:` grants): status, headers, body.
func (c *Context) HTTP(method, url string, headers map[string]string, body *string) (json.RawMessage, error) {
	return c.host("http", map[string]any{"method": method, "url": url, "headers": headers, "body": body})
}

// Call runs another node type (`plugin_call:` grants): its output and action.
func (c *Context) Call(nodeType string, input, config any) (json.RawMessage, error) {
	return c.host("plugin_call", map[string]any{"type": nodeType, "input": input, "config": config})
}

// send writes one message as a frame; an error if it cannot be encoded or
// is over MaxFrame (nothing is written then).
func (p *Plugin) send(message any) error {
	body, err := json.Marshal(message)
	if err != nil {
		return fmt.Errorf("cannot encode the message: %w", err)
	}
	if len(body) > MaxFrame {
		return fmt.Errorf("a message of %d bytes is over the protocol's %d", len(body), MaxFrame)
	}
	frame := make([]byte, 4+len(body))
	binary.LittleEndian.PutUint32(frame, uint32(len(body)))
	copy(frame[4:], body)
	p.writeMu.Lock()
	defer p.writeMu.Unlock()
	if _, err := p.out.Write(frame); err != nil {
		os.Exit(1)
	}
	return nil
}

func (p *Plugin) hostCall(call uint64, function string, args map[string]any) (json.RawMessage, error) {
	answer := make(chan hostAnswer, 1)
	p.hostMu.Lock()
	p.hostID++
	id := p.hostID
	p.waiting[id] = answer
	p.hostMu.Unlock()
	if err := p.send(map[string]any{"type": "host", "id": id, "call": call, "function": function, "args": args}); err != nil {
		p.hostMu.Lock()
		delete(p.waiting, id)
		p.hostMu.Unlock()
		return nil, err
	}
	got := <-answer
	return got.value, got.err
}

type message struct {
	Type     string          `json:"type"`
	ID       uint64          `json:"id"`
	NodeType string          `json:"node_type"`
	Input    json.RawMessage `json:"input"`
	Config   json.RawMessage `json:"config"`
	Attempt  int             `json:"attempt"`
	Value    json.RawMessage `json:"value"`
	Error    *string         `json:"error"`
}

func (p *Plugin) fail(id uint64, err error) {
	kind := "failed"
	var known *kindError
	if errors.As(err, &known) {
		kind = known.kind
	}
	_ = p.send(map[string]any{"type": "error", "id": id, "message": err.Error(), "kind": kind})
}

func (p *Plugin) exec(m message) {
	fn, ok := p.funcs[m.NodeType]
	if !ok {
		p.fail(m.ID, InvalidConfig(fmt.Sprintf("unknown node type `%s`", m.NodeType)))
		return
	}
	defer func() {
		if r := recover(); r != nil {
			p.fail(m.ID, fmt.Errorf("panic: %v", r))
		}
	}()
	out, err := fn(m.Input, m.Config, &Context{plugin: p, call: m.ID, Attempt: m.Attempt})
	if err != nil {
		p.fail(m.ID, err)
		return
	}
	result := map[string]any{"type": "result", "id": m.ID, "output": out}
	if action, ok := out.(Action); ok {
		result = map[string]any{"type": "result", "id": m.ID, "output": action.Output, "action": action.Action}
	}
	// An output that cannot be sent fails the node instead.
	if err := p.send(result); err != nil {
		p.fail(m.ID, err)
	}
}

func (p *Plugin) prepare(m message) {
	for _, t := range p.nodes {
		if t.Type != m.NodeType {
			continue
		}
		if t.Prepare != nil {
			if err := t.Prepare(m.Config); err != nil {
				p.fail(m.ID, InvalidConfig(err.Error()))
				return
			}
		}
		_ = p.send(map[string]any{"type": "prepared", "id": m.ID})
		return
	}
	p.fail(m.ID, InvalidConfig(fmt.Sprintf("unknown node type `%s`", m.NodeType)))
}

// Run serves the host until it says `shutdown` or closes stdin. What the
// program prints to stdout goes to stderr (the plugin's log) instead.
func (p *Plugin) Run() {
	p.out = os.Stdout
	os.Stdout = os.Stderr
	header := make([]byte, 4)
	for {
		if _, err := io.ReadFull(os.Stdin, header); err != nil {
			os.Exit(0)
		}
		length := binary.LittleEndian.Uint32(header)
		if length > MaxFrame {
			fmt.Fprintf(os.Stderr, "pocket: a frame of %d bytes from the host\n", length)
			os.Exit(1)
		}
		body := make([]byte, length)
		if _, err := io.ReadFull(os.Stdin, body); err != nil {
			os.Exit(0)
		}
		var m message
		if err := json.Unmarshal(body, &m); err != nil {
			fmt.Fprintf(os.Stderr, "pocket: a malformed frame from the host: %v\n", err)
			os.Exit(1)
		}
		switch m.Type {
		case "describe":
			_ = p.send(map[string]any{"type": "described", "id": m.ID, "protocol": Protocol, "plugin": map[string]any{
				"name": p.Name, "version": p.Version, "description": p.Description, "author": p.Author,
				"permissions": p.Permissions, "nodes": p.nodes}})
		case "prepare":
			p.prepare(m)
		case "exec":
			go p.exec(m)
		case "host_result":
			p.hostMu.Lock()
			answer, ok := p.waiting[m.ID]
			delete(p.waiting, m.ID)
			p.hostMu.Unlock()
			if ok {
				if m.Error != nil {
					answer <- hostAnswer{err: errors.New(*m.Error)}
				} else {
					answer <- hostAnswer{value: m.Value}
				}
			}
		case "shutdown":
			os.Exit(0)
		}
	}
}
