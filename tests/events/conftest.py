"""The lifecycle tests' real databases (SQLite and PostgreSQL, seeded with a team, its
people and two customers) serve the event tests too."""
from tests.lifecycle.conftest import (seeded_pg, seeded_sqlite, services,  # noqa: F401
                                      sqlite_services)
