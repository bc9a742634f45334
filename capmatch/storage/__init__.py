"""The catalog: domain models and their SQLite storage."""
