//go:build wasip1

// go-text: a Pocket WASM plugin written in Go, built with
// GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o go-text.wasm
package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"pocket.local/sdk"
)

func init() {
	pocket.Register(pocket.Plugin{
		Name:        "go-text",
		Version:     "1.0.0",
		Description: "Text tools written in Go",
		Permissions: []string{"log"},
		Nodes: []pocket.NodeType{
			{
				Type:        "shout",
				Description: "Upper-cases the input text and adds an exclamation mark",
				Examples: []json.RawMessage{
					json.RawMessage(`{"input": "hello", "output": "HELLO!"}`),
					json.RawMessage(`{"input": 7, "error": "expected a string"}`),
				},
				Run: shout,
			},
			{
				Type:         "words",
				Description:  "Counts the words of the input text; routes `long` past `limit` words",
				ConfigSchema: json.RawMessage(`{"type": "object", "properties": {"limit": {"type": "integer", "default": 3}}}`),
				Examples: []json.RawMessage{
					json.RawMessage(`{"input": "a b", "output": {"words": 2}}`),
					json.RawMessage(`{"input": "a b c d", "output": {"words": 4}, "action": "long"}`),
				},
				Run: words,
			},
		},
	})
}

func text(call pocket.Call) (string, error) {
	var s string
	if err := json.Unmarshal(call.Input, &s); err != nil {
		return "", errors.New("expected a string")
	}
	return s, nil
}

func shout(call pocket.Call) (pocket.Result, error) {
	s, err := text(call)
	if err != nil {
		return pocket.Result{}, err
	}
	fmt.Println("shouting", len(s), "bytes")
	return pocket.Output(strings.ToUpper(s) + "!"), nil
}

func words(call pocket.Call) (pocket.Result, error) {
	s, err := text(call)
	if err != nil {
		return pocket.Result{}, err
	}
	var config struct {
		Limit int `json:"limit"`
	}
	if err := json.Unmarshal(call.Config, &config); err != nil {
		return pocket.Result{}, err
	}
	count := len(strings.Fields(s))
	result := pocket.Output(map[string]int{"words": count})
	if count > config.Limit {
		result.Action = "long"
	}
	return result, nil
}

func main() {}
