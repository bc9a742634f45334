"""Measuring capmatch: similar-tool quality on labelled data, and speed against naive baselines."""
