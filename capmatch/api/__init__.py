"""HTTP API (FastAPI): submit URLs, read tools, similar tools, search, compare, match graph."""
