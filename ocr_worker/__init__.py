"""OCR pipeline of dms, a leaf library: pure functions over files.

Entry points: :func:`ocr_worker.rasterise.rasterise`, :func:`ocr_worker.pipeline.process_page`,
:func:`ocr_worker.pdf_assembly.assemble_searchable_pdf`. It imports no Celery, database,
web or ``dms`` code (``tests/test_layering.py`` checks); its errors are ``errorkit``'s and it
reads settings through a protocol (:class:`ocr_worker.pipeline.OcrSettings`). The tasks that
sequence it live in ``dms.worker``, the database side in ``dms.services.ocr_flow``.
"""
