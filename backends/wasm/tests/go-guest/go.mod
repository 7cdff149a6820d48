module pocket.local/go-guest

go 1.24

require pocket.local/sdk v0.0.0

replace pocket.local/sdk => ../../sdks/go
