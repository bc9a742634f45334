"""All configuration, read from environment variables prefixed ``CAPMATCH_``."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CAPMATCH_", extra="ignore")

    home: Path = Field(Path(".capmatch"), description="Folder holding the catalog database and index.")
    embedding_model: str = Field(
        "all-MiniLM-L6-v2",
        description="sentence-transformers model: the bundled all-MiniLM-L6-v2 or a local model path.",
    )
    extractor: str = Field("extractive", description="Decomposer backend used when none is asked for.")
    allow_private_urls: bool = Field(
        False, description="Allow URLs that resolve to loopback/private/link-local addresses."
    )
    fetch_connect_timeout: float = 5.0
    fetch_read_timeout: float = 20.0
    fetch_total_timeout: float = 60.0
    fetch_max_bytes: int = 5 * 1024 * 1024
    fetch_max_redirects: int = 5
    index_type: Literal["auto", "flat", "ivf"] = "auto"
    # Measured with scripts/index_threshold.py (15-vector query, k=64, 2 cores): flat search takes
    # ~10 ms at 20k vectors and grows linearly; IVF answers in ~2.5 ms there with recall@10 >= 0.95.
    ivf_threshold: int = 20_000
    ivf_nprobe: int = 32
    match_threshold: float = Field(0.5, description="Similarity at which two capabilities count as matched.")
    shared_data: Path = Field(Path("../shared/data"), description="Labelled data used by eval/benchmarks.")
    host: str = "127.0.0.1"
    port: int = 8000

    @property
    def db_path(self) -> Path:
        return self.home / "catalog.sqlite3"

    @property
    def index_dir(self) -> Path:
        return self.home / "index"


def get_settings() -> Settings:
    """Read settings afresh: tests and the CLI change the environment between calls."""
    return Settings()
