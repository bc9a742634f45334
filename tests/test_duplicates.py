"""A feature stated twice on one page is one capability (issue 10, duplicates)."""

from __future__ import annotations

from capmatch.embeddings.model import SentenceTransformerEmbedder
from capmatch.extractor.decompose.base import CapabilityDraft
from capmatch.extractor.decompose.extractive import ExtractiveDecomposer, _name_words


def test_name_words_drop_the_tool_generic_words_and_plurals() -> None:
    assert _name_words("Route Guards based Authorization", "Gatekeep") == {"route", "guard", "based", "authorization"}
    assert _name_words("Rate Limiting", "Gatekeep") <= _name_words("Adds concurrency-based rate limits", "Gatekeep")
    assert _name_words("HNSW support", "Gatekeep") == {"hnsw"}
    assert _name_words("Gatekeep streaming", "Gatekeep") == {"stream"}


def test_a_feature_named_twice_becomes_one_capability_with_both_quotes(
    embedder: SentenceTransformerEmbedder,
) -> None:
    drafts = [
        CapabilityDraft(
            "Route Guards based Authorization",
            "Route Guards based Authorization",
            ["Route Guards based Authorization"],
            3.0,
        ),
        CapabilityDraft(
            "Required dictionary keys", "Keys of a dictionary schema can be required.", ["keys can be required"], 2.0
        ),
        CapabilityDraft(
            "Optional dictionary keys", "Keys of a dictionary schema can be optional.", ["keys can be optional"], 1.5
        ),
        CapabilityDraft(
            "Route Guards",
            "Gatekeep has an authorization mechanism called guards, which allows the user to define guard functions.",
            ["Gatekeep has an authorization mechanism called guards"],
            1.0,
        ),
    ]
    merged = ExtractiveDecomposer(embedder)._merge_named_alike(drafts, "Gatekeep")
    names = [d.name for d in merged]
    # The overview item keeps its place and name and gains the section's sentence as evidence.
    assert names == ["Route Guards based Authorization", "Required dictionary keys", "Optional dictionary keys"]
    assert merged[0].quotes == [
        "Route Guards based Authorization",
        "Gatekeep has an authorization mechanism called guards",
    ]


def test_distinct_features_sharing_one_word_stay_apart(embedder: SentenceTransformerEmbedder) -> None:
    drafts = [
        CapabilityDraft("HNSW index", "Supports the HNSW index type.", ["HNSW index"], 2.0),
        CapabilityDraft("IVFFlat index", "Supports the IVFFlat index type.", ["IVFFlat index"], 1.0),
    ]
    assert len(ExtractiveDecomposer(embedder)._merge_named_alike(drafts, "Pgv")) == 2
