"""Application services: the use cases, shared by the web app, the CLI and the worker."""
