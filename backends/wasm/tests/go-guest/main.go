//go:build wasip1

// go-guest: a test guest exercising the Go SDK's host calls, built by
// scripts/build-go-plugins.sh for the WASM backend's tests.
package main

import (
	"encoding/json"
	"errors"

	"pocket.local/sdk"
)

func init() {
	pocket.Register(pocket.Plugin{
		Name:        "go-guest",
		Version:     "1.0.0",
		Permissions: []string{"log", "kv", "http:127.0.0.1", "plugin_call:go-guest/*"},
		Nodes: []pocket.NodeType{
			{Type: "config", Description: "The plugin config's `greeting`", Run: config},
			{Type: "kv", Description: "Stores its input under `k` and reads it back", Run: kv},
			{Type: "http", Description: "GETs the input URL: its status", Run: get},
			{Type: "panic", Description: "Panics", Run: func(pocket.Call) (pocket.Result, error) { panic("boom") }},
			{Type: "fail", Description: "Fails", Run: func(pocket.Call) (pocket.Result, error) { return pocket.Result{}, errors.New("it failed") }},
			{Type: "call", Description: "Runs the node type `type` on `input` (a plugin call)", Run: call},
		},
	})
}

func config(pocket.Call) (pocket.Result, error) {
	greeting, err := pocket.Config("greeting")
	if err != nil {
		return pocket.Result{}, err
	}
	pocket.Log(pocket.Info, "read the greeting")
	return pocket.Output(greeting), nil
}

func kv(call pocket.Call) (pocket.Result, error) {
	if err := pocket.KvSet("k", call.Input); err != nil {
		return pocket.Result{}, err
	}
	stored, err := pocket.KvGet("k")
	if err != nil {
		return pocket.Result{}, err
	}
	return pocket.Output(json.RawMessage(stored)), nil
}

func get(call pocket.Call) (pocket.Result, error) {
	var url string
	if err := json.Unmarshal(call.Input, &url); err != nil {
		return pocket.Result{}, err
	}
	response, err := pocket.HTTP(pocket.HTTPRequest{Method: "GET", URL: url})
	if err != nil {
		return pocket.Result{}, err
	}
	return pocket.Output(response.Status), nil
}

func call(c pocket.Call) (pocket.Result, error) {
	var request struct {
		Type  string          `json:"type"`
		Input json.RawMessage `json:"input"`
	}
	if err := json.Unmarshal(c.Input, &request); err != nil {
		return pocket.Result{}, err
	}
	output, err := pocket.CallNode(request.Type, request.Input, map[string]any{})
	if err != nil {
		return pocket.Result{}, err
	}
	return pocket.Output(output), nil
}

func main() {}
