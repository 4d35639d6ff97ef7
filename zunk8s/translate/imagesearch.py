"""Zun's image search on Kubernetes (pure): Zun's docker driver searches Docker Hub; zunk8s
searches its own registry's catalog (the one commit pushes to, or ``images.search_registry``):
the repositories under the registry's path whose name holds the term (or is it, with
``exact_match``), each with its tags, named as the nodes pull them. A project's committed images
sit under its namespace there: another project's are never listed.

Registries keep no descriptions, stars or official marks: those fields of Zun's answer are null.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from zunk8s.translate.images import registry_host, split_repo

Obj = dict[str, Any]
# Results at most (each costs one read of its tags).
MAX_RESULTS = 100


class BadSearch(ValueError):
    """A search zunk8s cannot make; the message says why."""


@dataclass(frozen=True)
class SearchPlace:
    url: str  # where the catalog is read: scheme://host[:port]
    path: str  # the registry path searched ("" for all of it)
    host: str  # the registry host images are named by (as nodes pull them)
    projects: str  # the path under which each project's committed images are, by namespace


def search_place(search_registry: str, commit_registry: str, *, plain: bool) -> SearchPlace | None:
    """Where to search: ``search_registry`` (a URL) if set, else the commit registry (HTTP when
    ``plain``); images are named by the commit registry's host when there is one. None: neither
    is configured."""
    commit_host, _, commit_path = commit_registry.strip("/").partition("/")
    if search_registry:
        parts = urlsplit(search_registry)
        url = f"{parts.scheme}://{parts.netloc}"
        path = parts.path.strip("/")
        return SearchPlace(url=url, path=path, host=commit_host or parts.netloc,
                           projects=commit_path if commit_host else path)
    if not commit_host:
        return None
    return SearchPlace(url=f"{'http' if plain else 'https'}://{commit_host}", path=commit_path, host=commit_host,
                       projects=commit_path)


def parse_term(image: str, place: SearchPlace) -> tuple[str, str | None]:
    """The search's (term, tag): ``image`` as Zun parses it; a tag only when one is written. An
    image naming another registry host cannot be searched here."""
    host = registry_host(image)
    if host is not None:
        if host != place.host:
            raise BadSearch(f"zunk8s searches only its own registry ({place.host}), not {host}.")
        image = image.partition("/")[2]
    last = image.rsplit("/", 1)[-1]
    repo, tag = split_repo(image)
    return repo, (tag if ":" in last or "@" in image else None)


def _under(repo: str, path: str) -> str | None:
    """``repo`` relative to ``path`` (None when it is not under it)."""
    if not path:
        return repo
    return repo[len(path) + 1:] if repo.startswith(path + "/") else None


def _relative(repo: str, place: SearchPlace) -> str | None:
    return _under(repo, place.path)


def visible(repo: str, place: SearchPlace, *, own_namespace: str, namespace_prefix: str) -> bool:
    """Under the searched path, and not under another project's namespace (where commit puts a
    project's images)."""
    if _relative(repo, place) is None:
        return False
    rel = _under(repo, place.projects)
    if rel is None or "/" not in rel:
        return True
    first = rel.split("/", 1)[0]
    return not (first.startswith(namespace_prefix) and first != own_namespace)


def matches(repo: str, term: str, place: SearchPlace, *, exact: bool, own_namespace: str) -> bool:
    rel = _relative(repo, place) or repo
    names = {repo, rel, f"{place.host}/{repo}"}
    committed = _under(repo, f"{place.projects}/{own_namespace}" if place.projects else own_namespace)
    if committed is not None:
        names.add(committed)  # as a committed image is named in `run`
    if exact:
        return term in names
    return any(term.lower() in n.lower() for n in names)


def results(repos: Sequence[str], tags: Mapping[str, Sequence[str]], place: SearchPlace) -> list[Obj]:
    """Zun's search answer, one row per repository."""
    return [{"name": f"{place.host}/{repo}", "tags": list(tags.get(repo) or []), "description": None,
             "is_automated": None, "metadata": {"is_official": None, "star_count": None}} for repo in repos]
