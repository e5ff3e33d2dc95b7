"""The lock's own commands, on the same Settings: ``faceid keys`` (create, list, revoke) and
``faceid index`` (build and show a large organisation's host index)."""

from __future__ import annotations

import json
import logging
from dataclasses import asdict

import click

from ..errors import FaceIdError
from ..settings import Settings
from ..store import SCOPES, Store
from ..store.cli import open_configured as _store
from .ann import Shelf
from .approx import build_host_index
from .cache import index_base, store_key
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


@click.group()
def index() -> None:
    """Large organisations' host indexes (FACEID_INDEX_DIR): one per host, every worker maps it."""


def _org_id(store: Store, org: str | None, org_id: str | None) -> str:
    found = store.org(org_id) if org_id else store.org_by_name(org or "")
    if found is None:
        raise click.UsageError(f"no such organisation: {org_id or org!r} (give --org or --org-id)")
    return found.id


def _shelf(settings: Settings) -> Shelf:
    return Shelf(
        index_base(settings.index_dir) / store_key(settings.database_url, settings.data_dir)
    )


@index.command("build")
@click.option("--org", help="Organisation name.")
@click.option("--org-id", help="Organisation id (instead of --org).")
def index_build(org: str | None, org_id: str | None) -> None:
    """Build an organisation's index on this host now (workers also start one by themselves
    when its templates pass FACEID_INDEX_APPROX_FROM); says so when another process is
    building it."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    settings, store = Settings.load(), _store()
    keep_from = settings.index_approx_from // 2
    manifest = build_host_index(store, _shelf(settings), _org_id(store, org, org_id), keep_from)
    if manifest is not None:
        click.echo(json.dumps(asdict(manifest)))
    else:
        click.echo(
            f"not built: another process is building it, or the organisation holds fewer than "
            f"{keep_from} templates (searched exactly; any index it had is retired)"
        )


@index.command("status")
@click.option("--org", help="Organisation name.")
@click.option("--org-id", help="Organisation id (instead of --org).")
def index_status(org: str | None, org_id: str | None) -> None:
    """The index in force on this host for an organisation (JSON), and its templates now."""
    store = _store()
    found = _org_id(store, org, org_id)
    manifest = _shelf(Settings.load()).manifest(found)
    report = {
        "templates": store.template_count(found),
        "writes_since_build": store.org_version(found) - manifest.version if manifest else None,
        "index": asdict(manifest) if manifest else None,
    }
    click.echo(json.dumps(report))


COMMANDS = (keys, index)
