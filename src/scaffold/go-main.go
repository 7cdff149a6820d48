//go:build wasip1

// {{name}}: a Pocket WASM plugin written in Go with the Go SDK.
package main

import (
	"encoding/json"
	"errors"
	"fmt"

	"pocket.local/sdk"
)

func init() {
	pocket.Register(pocket.Plugin{
		Name:        "{{name}}",
		Version:     "0.1.0",
		Description: "Greets someone by name",
		Permissions: []string{"log"},
		Nodes: []pocket.NodeType{{
			Type:        "greet",
			Description: `Answers {"greeting": "<salutation>, <input.name>!"}`,
			ConfigSchema: json.RawMessage(`{
				"type": "object",
				"properties": {
					"salutation": {"type": "string", "default": "Hello", "description": "The word to greet with"}
				}
			}`),
			Examples: []json.RawMessage{
				json.RawMessage(`{"input": {"name": "Ada"}, "output": {"greeting": "Hello, Ada!"}}`),
				json.RawMessage(`{"input": {"name": "Ada"}, "config": {"salutation": "Hi"}, "output": {"greeting": "Hi, Ada!"}}`),
				json.RawMessage("{\"name\": \"no name\", \"input\": {}, \"error\": \"missing field `name`\"}"),
			},
			Run: greet,
		}},
	})
}

// greet: {"greeting": "<salutation>, <name>!"}.
func greet(call pocket.Call) (pocket.Result, error) {
	var input struct {
		Name *string `json:"name"`
	}
	var config struct {
		Salutation string `json:"salutation"`
	}
	if err := json.Unmarshal(call.Input, &input); err != nil {
		return pocket.Result{}, err
	}
	if input.Name == nil {
		return pocket.Result{}, errors.New("missing field `name`")
	}
	if err := json.Unmarshal(call.Config, &config); err != nil {
		return pocket.Result{}, err
	}
	greeting := fmt.Sprintf("%s, %s!", config.Salutation, *input.Name)
	return pocket.Output(map[string]string{"greeting": greeting}), nil
}

func main() {}
