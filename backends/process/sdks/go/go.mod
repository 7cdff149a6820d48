module pocket.local/process

go 1.24
