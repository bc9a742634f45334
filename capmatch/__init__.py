"""capmatch: grounded capability extraction, similar-tool search and comparisons."""

__version__ = "0.1.0"
