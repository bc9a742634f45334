"""All configuration, read from environment variables prefixed ``CAPMATCH_``."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

# USD per 1M tokens (input, output): estimates for cost reports, override with CAPMATCH_LLM_PRICES.
DEFAULT_PRICES: dict[str, tuple[float, float]] = {
    "gpt-4o-mini": (0.15, 0.60),
    "gpt-4o": (2.50, 10.00),
    "gpt-4.1-mini": (0.40, 1.60),
    "gpt-4.1": (2.00, 8.00),
    "openai/gpt-4o-mini": (0.15, 0.60),
    "meta-llama/llama-3.1-8b-instruct": (0.02, 0.05),
}


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CAPMATCH_", extra="ignore", populate_by_name=True)

    home: Path = Field(Path(".capmatch"), description="Folder holding the catalog database and index.")
    database_url: str | None = Field(
        None,
        description="postgresql://user:password@host:port/db puts the catalog and job queue in PostgreSQL, shared "
        "by every process and machine naming it; unset: SQLite under CAPMATCH_HOME.",
    )
    database_pool_size: int = Field(10, ge=1, description="PostgreSQL connections one process keeps at most.")
    database_migrate: bool = Field(
        False,
        description="Apply pending PostgreSQL migrations at start-up (otherwise only `capmatch db migrate` does, "
        "and a process refuses to start on an older schema).",
    )
    embedding_model: str = Field(
        "all-MiniLM-L6-v2",
        description="sentence-transformers model: the bundled all-MiniLM-L6-v2 or a local model path.",
    )
    embedding_backend: Literal["auto", "onnx", "torch"] = Field(
        "auto",
        description="Encoder: onnx (ONNX Runtime, exported once from the model), torch (sentence-transformers), "
        "or auto (onnx when onnxruntime imports, else torch).",
    )
    embedding_threads: int = Field(0, ge=0, description="ONNX Runtime intra-op threads; 0 = one per available core.")
    embedding_cache_dir: Path | None = Field(
        None, description="Where the exported ONNX model is cached [default: ~/.cache/capmatch/onnx]."
    )
    extractor: str = Field(
        "auto", description="Decomposer: auto (LLM when one is configured, else extractive), llm or extractive."
    )
    allow_private_urls: bool = Field(
        False, description="Allow URLs that resolve to loopback/private/link-local addresses."
    )
    fetch_connect_timeout: float = 5.0
    fetch_read_timeout: float = 20.0
    fetch_total_timeout: float = 60.0
    fetch_max_bytes: int = 5 * 1024 * 1024
    fetch_max_redirects: int = 5
    job_stale_seconds: float = Field(
        900, gt=0, description="A job that has not advanced for this long loses its lease (then is requeued)."
    )
    worker_lease_seconds: float = Field(
        60, gt=0, description="Lease on a claimed job; renewed while its worker lives and the job advances."
    )
    worker_concurrency: int = Field(2, ge=1, description="Jobs one worker process runs at once.")
    fetch_allowed_ports: str = Field("80,443", description="Ports URLs may use (comma-separated).")
    fetch_allow_addresses: str = Field(
        "", description="Comma-separated internal addresses fetching may reach anyway (e.g. an intranet docs host)."
    )
    index_folder: Path | None = Field(
        None,
        validation_alias=AliasChoices("CAPMATCH_INDEX_DIR"),
        description="Folder of the FAISS index snapshots; shared by every process on several machines "
        "[default: CAPMATCH_HOME/index].",
    )
    index_poll_seconds: float | None = Field(
        None,
        ge=0,
        description="How often a process looks for vector changes made by others [default: every query on "
        "SQLite, 1 s on PostgreSQL].",
    )
    index_snapshot_changes: int = Field(
        1000, ge=1, description="Vector changes after the last snapshot that make a new one due."
    )
    index_snapshots: Literal["inline", "indexer"] = Field(
        "inline",
        description="Who writes index snapshots: the process that writes to the catalog (inline), or only "
        "`capmatch indexer` (set this on the other processes when one runs).",
    )
    index_type: Literal["auto", "flat", "ivf"] = "auto"
    # Measured with scripts/index_threshold.py (15-vector query, k=64, 2 cores): flat search takes
    # ~10 ms at 20k vectors and grows linearly; IVF answers in ~2.5 ms there with recall@10 >= 0.95.
    ivf_threshold: int = 20_000
    ivf_nprobe: int = 32
    match_threshold: float = Field(
        0.5, description="Similarity at which a comparison aligns two capabilities (similar tools: fusion.PAIR_FLOOR)."
    )
    search_mode: Literal["hybrid", "vector", "lexical"] = Field(
        "hybrid",
        description="Free-text search: vector and BM25 rankings fused (hybrid), or either alone (see eval search).",
    )
    query_concurrency: int = Field(
        1, ge=1, description="Read queries (search, similar, compare) computed at once by one server process."
    )
    shared_data: Path = Field(Path("../shared/data"), description="Labelled data used by eval/benchmarks.")
    api_key: str | None = Field(
        None, description="When set, write endpoints need `Authorization: Bearer <key>`; reads stay public."
    )
    submit_rate_per_minute: int = Field(30, ge=1, description="URL submissions accepted per client per minute.")
    allowed_hosts: str = Field(
        "",
        description="Host names served (comma-separated, * for any); default: loopback names when bound to loopback.",
    )
    max_body_bytes: int = Field(1_000_000, ge=1, description="Request bodies over this many bytes get 413.")
    host: str = "127.0.0.1"
    port: int = 8000

    # ---- LLM backend (any OpenAI-compatible endpoint) ----
    openai_api_key: str | None = Field(None, validation_alias=AliasChoices("OPENAI_API_KEY"))
    openai_base_url: str | None = Field(None, validation_alias=AliasChoices("OPENAI_BASE_URL"))
    llm_model: str = "gpt-4o-mini"
    llm_mode: Literal["tools", "json", "md_json", "json_schema"] = Field(
        "tools",
        description="instructor mode; json_schema sends the schema only in response_format, as llama-cpp-python's "
        "server reads it (a grammar: the answer always has the right shape)",
    )
    llm_max_output_tokens: int | None = Field(
        None, description="max_tokens sent with each request (unset: the endpoint's default)."
    )
    llm_timeout: float = Field(60.0, description="Seconds per request before it counts as failed.")
    llm_http_retries: int = Field(4, description="Retries after a 429, 5xx, timeout or connection error.")
    llm_backoff_base: float = Field(0.5, description="Seconds; the n-th retry waits up to base·2^(n-1), with jitter.")
    llm_reasks: int = Field(2, description="Re-asks after an answer fails validation (e.g. an ungrounded quote).")
    llm_concurrency: int = Field(4, description="Requests in flight at once, shared by all jobs of a process.")
    llm_requests_per_minute: int = Field(120, description="Request rate shared by all jobs of a process.")
    llm_chunk_tokens: int = Field(3000, description="Document tokens per request; longer docs are split.")
    llm_max_tokens_per_tool: int = Field(60_000, description="Token budget per tool, retries and re-asks included.")
    llm_ungrounded: Literal["keep", "drop"] = Field(
        "keep", description="After the re-asks, keep ungrounded capabilities flagged grounded=false, or drop them."
    )
    llm_contrast: bool = Field(
        False,
        description="Ask the LLM for Unique / vs alternatives lines (one more request per tool); by default "
        "they are the catalog's own rule-written lines (matching/contrast.py).",
    )
    llm_prices: dict[str, tuple[float, float]] = Field(
        default_factory=lambda: dict(DEFAULT_PRICES), description="USD per 1M tokens (input, output) by model."
    )

    @property
    def llm_configured(self) -> bool:
        return bool(self.openai_api_key or self.openai_base_url)

    @property
    def db_path(self) -> Path:
        return self.home / "catalog.sqlite3"

    @property
    def index_dir(self) -> Path:
        return self.index_folder if self.index_folder is not None else self.home / "index"


def get_settings() -> Settings:
    """Read settings afresh: tests and the CLI change the environment between calls."""
    return Settings()
