"""The background side of dms: the Celery app, the broker adapter and every task.

Tasks are thin: each takes IDs, gets the process's Services from its
:class:`~dms.worker.task.TaskContext` and calls a use case in ``dms.services``; retries,
acks and time limits are set once by :func:`~dms.worker.task.dms_task`, queues and
limits per task in one table (:mod:`dms.worker.routing`). The OCR itself is the leaf
library ``ocr_worker``, called by ``dms.services.ocr_flow``.
"""
