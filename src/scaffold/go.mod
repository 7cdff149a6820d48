module {{name}}

go 1.24

require pocket.local/sdk v0.0.0

// The Go SDK of the Pocket source this project was made from (standard
// library only: nothing is downloaded).
replace pocket.local/sdk => {{sdk}}/backends/wasm/sdks/go
