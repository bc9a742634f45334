"""Queries over the catalog: similar tools, free-text search, contrast lines, rank, compare, graph."""
