"""One typed settings object, read from ``DMS_*`` environment variables once.

The defaults describe the embedded mode: everything under ``DMS_DATA_DIR``
(SQLite, a local object-store folder, a tantivy index, a SQLite Celery broker).
Scale-out sets the URLs of PostgreSQL, S3/MinIO, Elasticsearch and Redis.
The object is passed explicitly to ``create_app(settings)`` and to Celery;
nothing else in the code base reads the environment.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _default_config_dir() -> Path:
    """The repository's ``config/`` in a checkout (also an editable install); an installed
    wheel carries the same files as data files in ``<prefix>/share/dms/config``."""
    import sys
    import sysconfig

    candidates = [PROJECT_ROOT / "config", Path(sys.prefix) / "share" / "dms" / "config",
                  Path(sysconfig.get_path("data")) / "share" / "dms" / "config"]
    return next((c for c in candidates if (c / "checklists.yaml").is_file()), candidates[0])


DEFAULT_CONFIG_DIR = _default_config_dir()
_URL_FIELDS = frozenset({"database_url", "broker_url", "es_url", "s3_endpoint_url"})
_USERINFO_PASSWORD = re.compile(r"(//[^/:@]*):[^/@]*@")



class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="DMS_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    # --- where things live -------------------------------------------------
    data_dir: Path = Field(Path("var"), description="Root of all embedded-mode state.")
    config_dir: Path = Field(DEFAULT_CONFIG_DIR, description="checklists.yaml, logging.yaml")
    database_url: str = Field("", description="SQLAlchemy URL; default SQLite in data_dir.")

    # --- object store --------------------------------------------------------
    object_store: Literal["local", "s3"] = "local"
    object_store_path: Path | None = None  # default data_dir/objects
    s3_endpoint_url: str = ""  # e.g. http://minio:9000 ; empty = AWS
    s3_bucket: str = "dms"
    s3_access_key: str = ""
    s3_secret_key: SecretStr = SecretStr("")
    s3_region: str = "us-east-1"
    s3_multipart_threshold_mb: int = 16

    # --- search --------------------------------------------------------------
    search_backend: Literal["tantivy", "elasticsearch"] = "tantivy"
    search_index_path: Path | None = None  # default data_dir/index
    es_url: str = ""
    es_index: str = "dms-pages"
    search_lock_timeout_s: float = 30.0  # wait for another process's index writer
    index_retry_max_s: int = 300  # longest pause between retries of a failed index update

    # --- queue ---------------------------------------------------------------
    broker_url: str = Field("", description="Celery broker; default SQLite file in data_dir.")
    task_always_eager: bool = False  # only for debugging; tests use real workers
    worker_concurrency: int = 0  # 0 = one process per core

    # --- OCR -----------------------------------------------------------------
    ocr_languages: str = "chi_sim+chi_tra+eng"
    ocr_dpi: int = 300
    ocr_page_timeout_s: int = 180
    ocr_low_confidence: float = 60.0
    ocr_max_pages: int = 2000
    ocr_max_pixels: int = 200_000_000
    ocr_max_retries: int = 3
    # Lost OCR work (a worker killed mid-task) is re-queued by beat: every sweep, documents
    # without progress for ocr_stalled_after_s are dispatched again (claims stop re-reads).
    ocr_stalled_sweep_every_s: float = 300.0
    ocr_stalled_after_s: float = 600.0

    # --- classification (config/doc_types.yaml holds the rules) ----------------
    classify_review_below: float = 0.6  # type confidence under this: review queue
    classify_min_training_docs: int = 30  # confirmed documents before a model is trained
    classify_retrain_after: int = 20  # new human decisions that make a retraining due
    # Which OCR engine reads pages: "ppocr5" (PP-OCRv5 on ONNX Runtime), "ppocr" (PP-OCRv4) or
    # "tesseract". The default is the one benchmarks/ocr_engines_bench.py measured best
    # (README, "OCR engines"): ppocr5 reads Traditional pages at half ppocr's CER, no slower.
    ocr_engine: str = "ppocr5"
    # Per document type, e.g. DMS_OCR_ENGINE_BY_DOC_TYPE='{"GYDHT": "tesseract"}'. Used when a
    # document's type is known, i.e. on reprocessing after classification.
    ocr_engine_by_doc_type: dict[str, str] = Field(default_factory=dict)
    # How a page's 0/90/180/270 turn is decided, whichever engine then reads the page:
    # "tesseract" / "ppocr" -- that engine's confidence on a small crop read four ways; or
    # "lines" -- the axis of the text lines PP-OCR's detector finds on a downscaled copy and
    # a vote of its direction classifier over them. Measured on the generated pages: both
    # right on every page (and on faint, sparse and ID-card pages in four turns), "lines"
    # at 0.40 s of CPU a page against 0.20 s for tesseract's crop reads. "auto" (the
    # default): "lines" for pages a PP-OCR engine reads -- its own detection, which the
    # reading then reuses, so an upright page is detected once (issue 18) --, tesseract's
    # crop reads for pages tesseract reads.
    ocr_orientation_engine: str = "auto"
    # On a page judged Traditional, characters read in Simplified form are written in this
    # Traditional standard: "s2t" (OpenCC standard), "s2tw" (Taiwan), "s2hk" (Hong Kong),
    # or "off" to keep the engine's mix (ocr_worker/han_script.py).
    ocr_traditional_variant: Literal["off", "s2t", "s2tw", "s2hk"] = "s2t"
    # Page images and one-page PDFs are work files: deleted once the document's searchable
    # PDF is assembled (the viewer takes a page's image from that PDF), unless kept here
    # for debugging OCR (DMS_KEEP_PAGE_ARTIFACTS=1).
    keep_page_artifacts: bool = False

    # --- web -----------------------------------------------------------------
    host: str = "127.0.0.1"
    port: int = 8000
    # Signs session cookies. No default: the server refuses to start without a strong one
    # (dms.web.security.check_secret_key); `dms up` generates data_dir/secret_key.
    secret_key: SecretStr = SecretStr("")
    default_locale: Literal["zh_CN", "en"] = "zh_CN"
    station_token: SecretStr = SecretStr("")  # shared token for scanner stations' upload API
    # Development only: allows a weak or missing secret key and Flask's development server.
    debug: bool = False
    # The address people use, e.g. https://archive.example.cn; https turns on Secure cookies
    # and HSTS unless secure_cookies says otherwise.
    public_url: str = ""
    secure_cookies: bool | None = None
    session_hours: float = 8.0  # a login lasts one working day at most
    body_limit_mb: float = 1.0  # request bodies of every route but uploads
    # Instants are stored in UTC and shown in this zone (pages, CSV/XLSX, mails); a naive
    # time in an event is read in it too.
    time_zone: str = "Asia/Shanghai"

    # --- reminders and urging (催办) ------------------------------------------
    notifier: str = "log"  # log | smtp (see dms.services.notify)
    smtp_host: str = ""
    smtp_port: int = 587
    smtp_username: str = ""
    smtp_password: SecretStr = SecretStr("")
    smtp_sender: str = "dms@localhost"
    smtp_starttls: bool = True
    smtp_timeout_s: float = 30.0
    reminders_sweep_every_s: float = 900.0  # Celery beat interval of the urging sweep

    # --- physical archive ------------------------------------------------------
    label_width_mm: float = 100.0  # box/volume labels for the label printer
    label_height_mm: float = 60.0

    log_level: str = "INFO"
    log_config: Path | None = None  # a logging dictConfig YAML, e.g. config/logging.yaml

    @model_validator(mode="after")
    def _fill_derived(self) -> Settings:
        self.data_dir = self.data_dir.expanduser().resolve()
        if not self.database_url:
            self.database_url = f"sqlite:///{self.data_dir / 'dms.sqlite'}"
        if self.object_store_path is None:
            self.object_store_path = self.data_dir / "objects"
        if self.search_index_path is None:
            self.search_index_path = self.data_dir / "index"
        if not self.broker_url:
            self.broker_url = f"sqla+sqlite:///{self.data_dir / 'broker.sqlite'}"
        if self.secure_cookies is None:
            self.secure_cookies = self.public_url.lower().startswith("https://")
        return self

    def __repr_args__(self) -> Any:
        # URLs may carry a password (postgresql://user:pw@host/db): masked like SecretStr.
        for name, value in super().__repr_args__():
            if name in _URL_FIELDS and isinstance(value, str):
                value = _USERINFO_PASSWORD.sub(r"\1:**********@", value)
            yield name, value

    @property
    def secret_key_file(self) -> Path:
        """Where `dms up` keeps the generated key of the embedded default (mode 0600)."""
        return self.data_dir / "secret_key"

    @property
    def holidays_path(self) -> Path:
        """The working-day calendar of business time limits (调休 included)."""
        return self.config_dir / "holidays.yaml"

    @property
    def checklist_path(self) -> Path:
        return self.config_dir / "checklists.yaml"

    @property
    def quarantine_dir(self) -> Path:
        return self.data_dir / "quarantine"

    @property
    def work_dir(self) -> Path:
        """Scratch space for OCR steps and ingest staging."""
        return self.data_dir / "work"

    def ensure_dirs(self) -> None:
        for d in (self.data_dir, self.quarantine_dir, self.work_dir):
            d.mkdir(parents=True, exist_ok=True)


def load_settings(**overrides: object) -> Settings:
    """Read the environment (and ``.env``) once; overrides win (used by tests)."""
    return Settings(**overrides)  # type: ignore[arg-type]
