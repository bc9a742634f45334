"""The capmatch command line: data to stdout, status to stderr, --json for scripts.

One module per command group: catalog (add, ingest, tools, show, delete, reindex, export, import),
queries (similar, search, compare), serving (serve, worker, indexer, db), measure (eval, bench).
"""

from __future__ import annotations

from capmatch.cli import catalog, measure, queries, serving
from capmatch.cli.common import app

__all__ = ["app", "catalog", "measure", "queries", "serving"]

if __name__ == "__main__":
    app()
