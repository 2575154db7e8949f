"""What every ``dms`` command is handed: the settings, and the services and task
dispatcher made from them on first use.

Beneath the root group (``dms.cli``) and the command modules (``dms.cli_*``,
``dms.classify.cli``): they import this module, and ``dms.cli`` imports them to
register their commands, so none of them imports ``dms.cli``.
"""
from __future__ import annotations

from dataclasses import dataclass

import click

from dms.services.container import Services, build_services
from dms.services.dispatch import Dispatcher
from dms.settings import Settings


@dataclass
class CliContext:
    settings: Settings
    _services: Services | None = None
    _dispatcher: Dispatcher | None = None

    @property
    def services(self) -> Services:
        if self._services is None:
            self._services = build_services(self.settings)
            # Index updates that fail after commit are retried by the queue (issue 17);
            # the Celery app is made only if one is needed.
            self._services.index_retry = lambda ids: self._retry_index(ids)
        return self._services

    @property
    def dispatcher(self) -> Dispatcher:
        if self._dispatcher is None:
            from dms.worker.celery_app import make_celery
            from dms.worker.dispatcher import CeleryDispatcher

            self._dispatcher = CeleryDispatcher(make_celery(self.settings))
        return self._dispatcher


    def _retry_index(self, document_ids: list[int]) -> None:
        send = getattr(self.dispatcher, "reindex_documents", None)
        if send is not None:
            send(document_ids)


pass_ctx = click.make_pass_decorator(CliContext)
