"""`python -m capmatch.cli`: the same command line as `capmatch`."""

from capmatch.cli import app

app()
