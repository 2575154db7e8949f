"""OCR pipeline of dms: pure functions over files, no database or Celery.

Entry points: :func:`ocr_worker.rasterise.rasterise`, :func:`ocr_worker.pipeline.process_page`,
:func:`ocr_worker.pdf_assembly.assemble_searchable_pdf`. The Celery tasks live next to this
package's modules and only sequence those.
"""
