"""Sentence embeddings and the FAISS vector index."""
