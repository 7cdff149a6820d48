// go-stats: a process plugin in Go with Pocket's Go SDK (standard library
// only): statistics over a list of numbers, with Go's sort and math.
package main

import (
	"encoding/json"
	"math"
	"sort"

	"pocket.local/process"
)

func numbers(input json.RawMessage) ([]float64, error) {
	var xs []float64
	if err := json.Unmarshal(input, &xs); err != nil || len(xs) == 0 {
		return nil, process.InvalidInput("expected a non-empty list of numbers")
	}
	return xs, nil
}

func main() {
	p := process.New("go-stats", "1.0.0", "Statistics over lists of numbers (Go)", []string{"log"})
	p.Author = "Pocket examples"
	p.Node(process.NodeType{
		Type:        "summary",
		Description: "Count, mean, median, standard deviation, min and max of a list of numbers",
		Examples: []map[string]any{
			{"input": []any{1, 2, 3, 4}, "output": map[string]any{"count": 4, "mean": 2.5, "median": 2.5, "stddev": 1.118, "min": 1, "max": 4}},
			{"input": "x", "error": "expected a non-empty list of numbers"},
		},
	}, func(input, config json.RawMessage, ctx *process.Context) (any, error) {
		xs, err := numbers(input)
		if err != nil {
			return nil, err
		}
		sort.Float64s(xs)
		n := float64(len(xs))
		sum := 0.0
		for _, x := range xs {
			sum += x
		}
		mean := sum / n
		variance := 0.0
		for _, x := range xs {
			variance += (x - mean) * (x - mean)
		}
		median := xs[len(xs)/2]
		if len(xs)%2 == 0 {
			median = (xs[len(xs)/2-1] + xs[len(xs)/2]) / 2
		}
		round := func(x float64) float64 { return math.Round(x*1000) / 1000 }
		return map[string]any{"count": len(xs), "mean": round(mean), "median": round(median),
			"stddev": round(math.Sqrt(variance / n)), "min": xs[0], "max": xs[len(xs)-1]}, nil
	})
	p.Node(process.NodeType{Type: "echo", Description: "Returns its input"},
		func(input, config json.RawMessage, ctx *process.Context) (any, error) {
			return input, nil
		})
	p.Run()
}
