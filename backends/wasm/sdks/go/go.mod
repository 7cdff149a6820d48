module pocket.local/sdk

go 1.24
