"""The one task decorator: every task acks late, is re-queued when its worker dies, is
routed and time-limited from the one table, and retries transient errors with jittered
exponential backoff."""
from __future__ import annotations

from dms.errors import BadDocumentError, ExternalToolTimeout, OcrError, StorageError
from dms.services.ocr_flow import document_time_limits, page_time_limits
from dms.settings import Settings
from dms.worker.celery_app import TASK_MODULES, make_celery
from dms.worker.routing import TASKS
from dms.worker.task import BACKOFF_MAX_S, backoff_s, is_transient


def test_every_task_is_declared_the_same_way(settings: Settings) -> None:
    app = make_celery(settings)
    app.loader.import_default_modules()
    for module in TASK_MODULES:
        __import__(module)
    app.finalize()
    ours = {name for name in app.tasks if name.startswith("dms.")}
    assert ours == set(TASKS)  # no task without a route, no route without a task
    for name in TASKS:
        task = app.tasks[name]
        assert task.acks_late and task.reject_on_worker_lost, name
        assert app.amqp.router.route({}, name)["queue"].name == TASKS[name].queue
    page, document = app.tasks["dms.ocr_page"], app.tasks["dms.ocr_document"]
    assert (page.soft_time_limit, page.time_limit) == page_time_limits(settings)
    assert (document.soft_time_limit, document.time_limit) == document_time_limits(settings)


def test_transient_errors_are_retried_broken_input_is_not() -> None:
    assert is_transient(OcrError("tesseract crashed"))
    assert is_transient(ExternalToolTimeout("pdftoppm timed out"))
    assert is_transient(StorageError("S3 unreachable"))
    assert not is_transient(BadDocumentError("encrypted PDF"))
    assert not is_transient(ValueError("a bug"))


def test_backoff_grows_exponentially_with_full_jitter() -> None:
    for retries, cap in ((0, 5), (1, 10), (3, 40), (10, BACKOFF_MAX_S)):
        waits = [backoff_s(retries) for _ in range(300)]
        assert all(0 <= w <= cap for w in waits), (retries, max(waits))
        assert len(set(waits)) > 1  # jittered: a hundred failures do not return together
    assert max(backoff_s(10) for _ in range(300)) > BACKOFF_MAX_S // 2
