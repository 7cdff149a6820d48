module pocket.local/go-text

go 1.24

require pocket.local/sdk v0.0.0

replace pocket.local/sdk => ../../../../backends/wasm/sdks/go
