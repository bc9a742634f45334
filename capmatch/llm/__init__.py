"""Talking to an OpenAI-compatible endpoint: client, retries and rate limits, usage, cache, tokens."""
