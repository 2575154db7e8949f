"""Build every seam once from the Settings: DB, object store, search index, checklist."""
from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from dms.db.session import make_engine, make_session_factory
from dms.domain.checklist import Checklist, load_checklist
from dms.domain.localtime import set_display_zone
from dms.settings import Settings

if TYPE_CHECKING:
    from dms.storage import ObjectStore
    from search import SearchIndex


@dataclass
class Services:
    settings: Settings
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    # Where index updates that failed after commit go to be retried until the index is
    # back: set by the process that also holds a queue (web app, CLI, worker) to its
    # dispatcher's ``reindex_documents``; None in bare scripts (then `dms reindex`).
    index_retry: Callable[[list[int]], None] | None = field(default=None, repr=False)

    @cached_property
    def engine(self) -> Engine:
        return make_engine(self.settings.database_url)

    @cached_property
    def sessions(self) -> sessionmaker[Session]:
        factory = make_session_factory(self.engine)
        # Use cases that get only a Session find the services here, e.g. to reindex
        # after commit (dms.services.indexing.document_changed).
        factory.configure(info={"services": self})
        return factory

    @cached_property
    def checklist(self) -> Checklist:
        return load_checklist(self.settings.checklist_path)

    @cached_property
    def store(self) -> ObjectStore:
        from dms.storage import make_object_store

        return make_object_store(self.settings)

    @cached_property
    def index(self) -> SearchIndex:
        from search import make_search_index

        with self._lock:
            return make_search_index(self.settings)

    def close(self) -> None:
        if "index" in self.__dict__:
            self.index.close()
        if "engine" in self.__dict__:
            self.engine.dispose()


def build_services(settings: Settings) -> Services:
    settings.ensure_dirs()
    set_display_zone(settings.time_zone)
    return Services(settings)
