"""The Flask web layer: an application factory and one blueprint per area."""
from dms.web.app import create_app

__all__ = ["create_app"]
