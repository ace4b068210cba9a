"""Where bytes come from: files, stdin, and (for `watch`) followed files and processes."""
