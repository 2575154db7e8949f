"""The pure domain core: no Flask, Celery, boto3, SQLAlchemy or Elasticsearch here."""
