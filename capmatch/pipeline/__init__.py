"""Ingestion: the stages from a source to a stored tool, the write path, and the job worker."""
