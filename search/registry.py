"""Choose the search backend from settings: ``make_search_index(settings)``.

Backends register a factory under the name used in ``settings.search_backend``;
the built-in ones import their module lazily so that, e.g., the embedded mode never
needs the elasticsearch package installed.
"""
from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

from typing import Protocol

from errorkit import ConfigError, MissingDependencyError
from search.base import SearchIndex


class Settings(Protocol):
    """What a backend reads from the deployment's settings (``dms.settings.Settings`` has
    it); a protocol, so this library does not import the application."""

    @property
    def search_backend(self) -> str: ...

    @property
    def search_index_path(self) -> Path | None: ...

    @property
    def es_url(self) -> str: ...

    @property
    def es_index(self) -> str: ...


Factory = Callable[[Settings], SearchIndex]
_FACTORIES: dict[str, Factory] = {}


def register_search_index(name: str) -> Callable[[Factory], Factory]:
    def deco(factory: Factory) -> Factory:
        _FACTORIES[name] = factory
        return factory

    return deco


def available_backends() -> list[str]:
    return sorted(_FACTORIES)


def make_search_index(settings: Settings) -> SearchIndex:
    factory = _FACTORIES.get(settings.search_backend)
    if factory is None:
        raise ConfigError(f"unknown search backend {settings.search_backend!r}",
                          hint=f"one of {', '.join(available_backends())}")
    return factory(settings)


@register_search_index("tantivy")
def _tantivy(settings: Settings) -> SearchIndex:
    try:
        from search.tantivy_index import TantivyIndex
    except ImportError as e:
        raise MissingDependencyError("the tantivy package is not installed",
                                     hint="pip install tantivy") from e
    if settings.search_index_path is None:
        raise ConfigError("search_index_path is not set")
    return TantivyIndex(settings.search_index_path)


def discard_embedded_index(settings: Settings) -> Path:
    """Delete the embedded index directory, for ``dms reindex`` to build it anew: it holds
    nothing the database and the object store do not (an index of an older schema cannot
    be opened, so it cannot be cleared either)."""
    if settings.search_backend != "tantivy" or settings.search_index_path is None:
        raise ConfigError("only the embedded (tantivy) index lives in a local directory")
    shutil.rmtree(settings.search_index_path, ignore_errors=True)
    return settings.search_index_path


@register_search_index("elasticsearch")
def _elasticsearch(settings: Settings) -> SearchIndex:
    if not settings.es_url:
        raise ConfigError("search_backend=elasticsearch needs es_url",
                          hint="set DMS_ES_URL, e.g. http://localhost:9200")
    from search.es_index import ElasticsearchIndex

    return ElasticsearchIndex(settings.es_url, settings.es_index)
