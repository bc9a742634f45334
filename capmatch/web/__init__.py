"""Server-rendered pages: search, tool, compare, submit with live progress, match graph."""
