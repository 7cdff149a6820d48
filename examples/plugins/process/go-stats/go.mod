module pocket.local/go-stats

go 1.24

require pocket.local/process v0.0.0

replace pocket.local/process => ../../../../backends/process/sdks/go
