"""The lock's own commands: ``faceid keys`` (create, list, revoke), on the same Settings."""

from __future__ import annotations

import click

from ..errors import FaceIdError
from ..store import SCOPES
from ..store.cli import open_configured as _store
from .keys import create_key


@click.group()
def keys() -> None:
    """API keys of organisations."""


@keys.command("create")
@click.option("--org", required=True, help="Organisation name (created if new).")
@click.option("--scope", required=True, type=click.Choice(SCOPES))
@click.option(
    "--lock",
    "locks",
    multiple=True,
    help="Bind an unlock key to this lock id (repeatable): it opens only these doors.",
)
def keys_create(org: str, scope: str, locks: tuple[str, ...]) -> None:
    """Create a key and print it once: it is stored hashed and cannot be shown again."""
    try:
        key_id, key = create_key(_store(), org, scope, locks)
    except FaceIdError as exc:
        raise click.UsageError(exc.message) from exc
    bound = f"  locks: {', '.join(locks)}" if locks else ""
    click.echo(f"key id: {key_id}  org: {org}  scope: {scope}{bound}", err=True)
    click.echo(key)


@keys.command("list")
@click.option("--org", required=True)
def keys_list(org: str) -> None:
    """Key ids, scopes and whether they are revoked (never the keys)."""
    store = _store()
    found = store.org_by_name(org)
    if found is None:
        raise click.UsageError(f"no organisation named {org!r}")
    for key in store.list_keys(found.id):
        state = "revoked" if key.revoked else "active"
        locks = f"  locks: {', '.join(key.locks)}" if key.locks else ""
        click.echo(f"{key.id}  {key.scope:<7} {state}{locks}")


@keys.command("revoke")
@click.argument("key_id")
def keys_revoke(key_id: str) -> None:
    """Revoke a key by its id."""
    if not _store().revoke_key(key_id):
        raise click.UsageError(f"no active key {key_id!r}")
    click.echo(f"revoked {key_id}")


COMMANDS = (keys,)
