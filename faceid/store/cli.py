"""The store's own command, ``faceid init-db``, on the same Settings."""

from __future__ import annotations

import click

from ..settings import Settings
from . import Store, open_store


def open_configured() -> Store:
    """The store the settings name (the one the server opens)."""
    return open_store(Settings.load())


@click.command("init-db")
def init_db() -> None:
    """Create or upgrade the store's schema (SQLite file or FACEID_DATABASE_URL)."""
    store = open_configured()
    click.echo(f"schema up to date in {store.describe()}")


COMMANDS = (init_db,)
