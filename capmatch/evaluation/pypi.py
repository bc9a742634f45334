"""`pypi:NAME==VERSION` gold page references: the long description (README) of one exact PyPI release.

The release's JSON (``{CAPMATCH_PYPI_URL}/NAME/VERSION/json``, default https://pypi.org/pypi) is
downloaded once into the cache dir (``CAPMATCH_PYPI_CACHE``, default ~/.cache/capmatch/pypi); its
``info.description`` is written beside it as a .md, .rst or .txt file chosen by
``info.description_content_type``, so the page is then read like any local page (format by extension).
Only the annotations live in the repository, never the README texts.

A mirror that serves only ``/NAME/json`` (the newest release) still lists an older release's files
under ``releases``: then the README is read from that release's wheel METADATA (or sdist PKG-INFO),
the core metadata PyPI's JSON takes ``info.description`` from, so a pinned page outlives a new release.
"""

from __future__ import annotations

import io
import json
import os
import re
import tarfile
import zipfile
from email.parser import BytesParser
from email.policy import compat32
from pathlib import Path
from urllib.parse import urljoin

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
        newest = _json(latest) if latest.status_code == 200 else None
        if newest is not None and newest["info"]["version"] == version:
            response = latest
        elif newest is not None and (files := (newest.get("releases") or {}).get(version)):
            # The mirror lists the older release's files: its README is the core metadata's
            # description, the very text PyPI's JSON serves as info.description.
            return _cache(cached, _from_distribution(name, version, files, str(latest.url)))
        else:
            raise InvalidInput(f"PyPI has no release {name}=={version} ({url} answered 404)")
    if response.status_code != 200:
        raise InvalidInput(f"cannot download {url}: HTTP {response.status_code}")
    return _cache(cached, _json(response))


def _cache(cached: Path, data: dict) -> dict:
    cached.parent.mkdir(parents=True, exist_ok=True)
    partial = cached.with_suffix(".part")
    partial.write_text(json.dumps(data), encoding="utf-8")
    partial.replace(cached)
    return data


def _from_distribution(name: str, version: str, files: list[dict], listing_url: str) -> dict:
    """The release JSON's ``info`` rebuilt from one of its distribution files: a wheel's METADATA, else an
    sdist's PKG-INFO (core metadata: the description is the body, or an old-style Description header)."""
    ranked = sorted(files, key=lambda f: (not str(f.get("filename", "")).endswith(".whl"), str(f.get("filename"))))
    for entry in ranked:
        filename = str(entry.get("filename", ""))
        if not filename.endswith((".whl", ".tar.gz", ".zip")) or not entry.get("url"):
            continue
        response = _download(urljoin(listing_url, str(entry["url"])))
        if response.status_code != 200:
            continue
        raw = _core_metadata(filename, response.content)
        if raw is None:
            continue
        meta = BytesParser(policy=compat32).parsebytes(raw)
        body = meta.get_payload()
        description = body if isinstance(body, str) and body.strip() else str(meta.get("Description") or "")
        return {
            "info": {
                "name": str(meta.get("Name") or name),
                "version": version,
                "description": description,
                "description_content_type": meta.get("Description-Content-Type"),
            },
            "source": filename,
        }
    raise InvalidInput(f"PyPI has no readable distribution file of {name}=={version} (wheel or sdist)")


def _core_metadata(filename: str, content: bytes) -> bytes | None:
    """METADATA of a wheel, or the top-level PKG-INFO of an sdist; None when the file has neither."""
    try:
        if filename.endswith((".whl", ".zip")):
            with zipfile.ZipFile(io.BytesIO(content)) as archive:
                wanted = "METADATA" if filename.endswith(".whl") else "PKG-INFO"
                names = [n for n in archive.namelist() if n.count("/") == 1 and n.endswith("/" + wanted)]
                return archive.read(names[0]) if names else None
        with tarfile.open(fileobj=io.BytesIO(content), mode="r:gz") as archive:
            member = next(
                (m for m in archive.getmembers() if m.name.count("/") == 1 and m.name.endswith("/PKG-INFO")), None
            )
            handle = archive.extractfile(member) if member else None
            return handle.read() if handle else None
    except (zipfile.BadZipFile, tarfile.TarError, OSError):
        return None


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
