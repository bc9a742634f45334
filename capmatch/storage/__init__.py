"""Storage: the catalog, the job queue and the LLM answer cache behind small interfaces (see base)."""
