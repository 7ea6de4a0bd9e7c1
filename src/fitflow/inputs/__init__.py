"""What a scientist writes: model expressions and functions, data tables,
objectives and their search spaces, external programs. Turned into the core
types with errors that name the file, the key, the row and the value."""
