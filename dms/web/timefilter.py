"""The one Jinja filter every template prints a time with: ``{{ at|localtime }}`` (or
``|localtime('%Y-%m-%d')``), in the deployment's zone (``DMS_TIME_ZONE``)."""
from __future__ import annotations

from datetime import date, datetime

from flask import Flask

from dms.domain.localtime import show, zone
from dms.settings import Settings


def register_time_filter(app: Flask, settings: Settings) -> None:
    tz = zone(settings.time_zone)

    def localtime(at: datetime | date | str | None, pattern: str = "%Y-%m-%d %H:%M") -> str:
        return show(at, tz, pattern)

    app.add_template_filter(localtime, "localtime")
    app.extensions["dms_time_zone"] = tz
