"""One thread per process for the image library the page steps use.

The worker runs one process per core (``dms worker -c N``; ``ocr_worker.tesseract_api``
keeps tesseract to one OpenMP thread, ``ocr_worker.ppocr_engine`` ONNX Runtime to one
intra- and inter-op thread, for the same reason). OpenCV starts its own pthreads pool, as
many threads as cores, in every process: a single worker process borrows the idle core for
its resizes, warps and filters, and two processes on two cores run four threads that
queue behind each other. Measured with ``benchmarks/queue_bench.py`` (ppocr5, 2 shared
vCPUs): the OCR steps took 12-13% more time per page with two worker processes than with
one, while the engine alone, without the steps, slowed by 3.5%.
"""
from __future__ import annotations

import cv2


def one_thread_per_process() -> None:
    """Call once in each worker process before it takes pages."""
    cv2.setNumThreads(1)
