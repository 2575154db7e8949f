"""Which queue each task goes to, and its time limits: one table for every task.

Three queues, so that the short work that makes a document findable never waits behind
a backlog of pages:

* ``documents``: split a document into pages, finalize it (assemble, classify, index) --
  seconds each, and the step between a document's last page and its being searchable;
* ``pages``: read one page (the bulk of the CPU);
* ``default``: everything periodic or human-paced (stalled-work sweep, classifier
  retraining, reminders, reports, mail).

A worker takes from them in the order of :data:`WORKER_QUEUES` (the broker transport's
``queue_order_strategy="priority"``: it asks the first queue first at every fetch, not
round-robin), so a finalize queued behind 10,000 pages is the next thing any free worker
process takes. Within a queue messages are FIFO, so pages of older batches are read
before pages of newer ones.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from dms.errors import InvalidInputError
from dms.services.ocr_flow import document_time_limits, page_time_limits
from dms.settings import Settings

DOCUMENTS = "documents"
PAGES = "pages"
DEFAULT = "default"
# The single queue of dms before the split: a worker also drains it, so that tasks queued
# before an upgrade are still run (task names did not change).
LEGACY = "dms"
WORKER_QUEUES = (DOCUMENTS, PAGES, DEFAULT, LEGACY)

Limits = Callable[[Settings], tuple[int, int]]


@dataclass(frozen=True)
class TaskSpec:
    queue: str
    limits: Limits = page_time_limits  # (soft, hard) seconds from the settings
    max_retries: Callable[[Settings], int] = lambda s: s.ocr_max_retries
    subject: str = ""  # what the first argument's ID names, for the log: "page 12: ..."


TASKS: dict[str, TaskSpec] = {
    "dms.ocr_document": TaskSpec(DOCUMENTS, limits=document_time_limits, subject="document"),
    "dms.finalize_document": TaskSpec(DOCUMENTS, max_retries=lambda s: 5, subject="document"),
    "dms.ocr_page": TaskSpec(PAGES, subject="page"),
    "dms.requeue_stalled": TaskSpec(DEFAULT),
    "dms.retrain_classifier": TaskSpec(DEFAULT),
    "dms.reminders_sweep": TaskSpec(DEFAULT),
    "dms.weekly_team_reports": TaskSpec(DEFAULT),
}


def task_routes() -> dict[str, dict[str, str]]:
    return {name: {"queue": spec.queue} for name, spec in TASKS.items()}


def task_annotations(settings: Settings) -> dict[str, dict[str, int]]:
    out = {}
    for name, spec in TASKS.items():
        soft, hard = spec.limits(settings)
        out[name] = {"soft_time_limit": soft, "time_limit": hard}
    return out


def parse_queues(value: str) -> list[str]:
    """``--queues documents,pages``: names in the order given (that is the priority);
    an unknown name is refused, naming it, instead of a worker silently idle."""
    names = [q.strip() for q in value.split(",") if q.strip()]
    unknown = [q for q in names if q not in WORKER_QUEUES]
    if not names or unknown:
        raise InvalidInputError(f"--queues: unknown queue {', '.join(unknown) or value!r}",
                                hint=f"one or more of {','.join(WORKER_QUEUES)}")
    return names
