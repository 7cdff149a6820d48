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
				Type:         "shout",
				Description:  "Upper-cases the input text (or the input object's `field`) and adds an exclamation mark",
				ConfigSchema: json.RawMessage(`{"type": "object", "properties": {"field": {"type": "string", "description": "The field of an object input to shout"}}}`),
				Examples: []json.RawMessage{
					json.RawMessage(`{"input": "hello", "output": "HELLO!"}`),
					json.RawMessage(`{"input": {"title": "hi", "n": 1}, "config": {"field": "title"}, "output": {"title": "HI!", "n": 1}}`),
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
			{
				Type:        "echo",
				Description: "Gives its input back",
				Examples: []json.RawMessage{
					json.RawMessage(`{"input": {"a": [1, 2]}, "output": {"a": [1, 2]}}`),
					json.RawMessage(`{"name": "brackets and quotes in strings", "input": {"s": "a \"}] ,\"input\":", "n": [1, {"x": "]"}]}, "output": {"s": "a \"}] ,\"input\":", "n": [1, {"x": "]"}]}}`),
					json.RawMessage(`{"input": "just a string", "output": "just a string"}`),
				},
				Run: func(call pocket.Call) (pocket.Result, error) { return pocket.Output(call.Input), nil },
			},
		},
	})
}

func text(value json.RawMessage) (string, error) {
	var s string
	if err := json.Unmarshal(value, &s); err != nil {
		return "", errors.New("expected a string")
	}
	return s, nil
}

func shout(call pocket.Call) (pocket.Result, error) {
	var config struct {
		Field string `json:"field"`
	}
	if err := json.Unmarshal(call.Config, &config); err != nil {
		return pocket.Result{}, err
	}
	if config.Field == "" {
		s, err := text(call.Input)
		if err != nil {
			return pocket.Result{}, err
		}
		fmt.Println("shouting", len(s), "bytes")
		return pocket.Output(strings.ToUpper(s) + "!"), nil
	}
	var object map[string]json.RawMessage
	if err := json.Unmarshal(call.Input, &object); err != nil {
		return pocket.Result{}, errors.New("expected an object with a `" + config.Field + "` field")
	}
	s, err := text(object[config.Field])
	if err != nil {
		return pocket.Result{}, err
	}
	shouted, _ := json.Marshal(strings.ToUpper(s) + "!")
	object[config.Field] = shouted
	return pocket.Output(object), nil
}

func words(call pocket.Call) (pocket.Result, error) {
	s, err := text(call.Input)
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
