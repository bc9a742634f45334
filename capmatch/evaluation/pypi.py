"""`pypi:NAME==VERSION` gold page references: the long description (README) of one exact PyPI release.

The release's JSON (``{CAPMATCH_PYPI_URL}/NAME/VERSION/json``, default https://pypi.org/pypi) is
downloaded once into the cache dir (``CAPMATCH_PYPI_CACHE``, default ~/.cache/capmatch/pypi); its
``info.description`` is written beside it as a .md, .rst or .txt file chosen by
``info.description_content_type``, so the page is then read like any local page (format by extension).
Only the annotations live in the repository, never the README texts.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import httpx

from capmatch.errors import InvalidInput

PREFIX = "pypi:"
DEFAULT_URL = "https://pypi.org/pypi"
TIMEOUT = 30.0
_REF = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([A-Za-z0-9][A-Za-z0-9.+!_-]*)$")
# description_content_type -> the extension the page loaders map to a format. PyPI (and the core
# metadata spec) render a release without a content type as reStructuredText.
SUFFIXES = {"text/markdown": ".md", "text/x-rst": ".rst", "text/plain": ".txt", "": ".rst"}


def cache_dir() -> Path:
    return Path(os.environ.get("CAPMATCH_PYPI_CACHE") or Path.home() / ".cache" / "capmatch" / "pypi").expanduser()


def base_url() -> str:
    return (os.environ.get("CAPMATCH_PYPI_URL") or DEFAULT_URL).rstrip("/")


def parse(ref: str) -> tuple[str, str]:
    """``pypi:NAME==VERSION`` -> (NAME, VERSION); an unpinned or malformed reference is refused."""
    match = _REF.match(ref.removeprefix(PREFIX).strip())
    if not ref.startswith(PREFIX) or match is None:
        raise InvalidInput(f"{ref!r} is not a PyPI page reference: write pypi:NAME==VERSION (an exact version)")
    return match.group(1), match.group(2)


def suffix_of(content_type: str | None) -> str:
    mime = (content_type or "").split(";", 1)[0].strip().lower()
    if mime not in SUFFIXES:
        raise InvalidInput(f"unsupported description_content_type {content_type!r} (markdown, rst or plain text)")
    return SUFFIXES[mime]


def _download(url: str) -> httpx.Response:
    try:
        return httpx.get(url, timeout=TIMEOUT, follow_redirects=True)
    except httpx.HTTPError as exc:
        raise InvalidInput(
            f"cannot download {url} ({type(exc).__name__}: {exc}); PyPI pages need the network "
            f"once, then they are read from {cache_dir()} (CAPMATCH_PYPI_CACHE)"
        ) from exc


def _json(response: httpx.Response) -> dict:
    try:
        data = dict(response.json())
        data["info"]["description"], data["info"]["version"]
    except (ValueError, KeyError, TypeError) as exc:
        raise InvalidInput(f"{response.url} is not a PyPI JSON document ({exc})") from exc
    return data


def release_json(name: str, version: str) -> dict:
    """The release's JSON, from the cache or else downloaded (and then cached).

    ``/NAME/VERSION/json`` is asked first. Some mirrors serve only ``/NAME/json`` (the newest
    release): that answer is taken only when its version is exactly the pinned one, never another."""
    cached = cache_dir() / f"{name.lower()}-{version}.json"
    if cached.is_file():
        return dict(json.loads(cached.read_text(encoding="utf-8")))
    url = f"{base_url()}/{name}/{version}/json"
    response = _download(url)
    if response.status_code == 404:
        latest = _download(f"{base_url()}/{name}/json")
        if latest.status_code == 200 and _json(latest)["info"]["version"] == version:
            response = latest
        else:
            raise InvalidInput(f"PyPI has no release {name}=={version} ({url} answered 404)")
    if response.status_code != 200:
        raise InvalidInput(f"cannot download {url}: HTTP {response.status_code}")
    data = _json(response)
    cached.parent.mkdir(parents=True, exist_ok=True)
    partial = cached.with_suffix(".part")
    partial.write_text(json.dumps(data), encoding="utf-8")
    partial.replace(cached)
    return data


def page_path(ref: str) -> Path:
    """The local file holding the README of the release ``ref`` names (downloaded on first use)."""
    name, version = parse(ref)
    info = release_json(name, version)["info"]
    description = info.get("description") or ""
    if not description.strip():
        raise InvalidInput(f"PyPI release {name}=={version} has no long description")
    page = cache_dir() / f"{name.lower()}-{version}{suffix_of(info.get('description_content_type'))}"
    data = description.encode("utf-8")
    if not page.is_file() or page.read_bytes() != data:
        page.write_bytes(data)
    return page
