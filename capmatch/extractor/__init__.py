"""Stages that turn a URL or file into grounded capabilities: fetch, clean, segment, decompose, verify."""
