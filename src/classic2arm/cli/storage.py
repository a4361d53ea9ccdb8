"""The storage group's verbs besides the migration ones (`migrate.py` adds them to `classic2arm storage`):

    classic2arm storage delete NAME        # Delete Storage Account (ASM), refused while its VHDs are in use
    classic2arm storage containers NAME    # the account's containers and blobs, classic or migrated
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated

import typer

from . import output
from .options import JsonOpt

if TYPE_CHECKING:
    from ..service.context import AppContext

NameArg = Annotated[str, typer.Argument(help="Name of the storage account.")]


def add_commands(group: typer.Typer, get_ctx: Callable[[], AppContext]) -> None:
    @group.command("delete")
    def delete(name: NameArg, as_json: JsonOpt = False) -> None:
        """Delete a classic storage account (refused while disks, images or VMs, migrated or not, use its VHDs)."""
        from ..service import classic_writes

        op_id = classic_writes.delete_storage_account(get_ctx(), name)
        if as_json:
            output.emit_json({"deleted": name, "operationId": op_id})
        else:
            output.out.print(f"storage account {name} deleted (operation {op_id})")

    @group.command("containers")
    def containers(name: NameArg, as_json: JsonOpt = False) -> None:
        """List a storage account's containers and their blobs (after a storage commit: the ARM account's)."""
        from ..service import blobs

        inv = blobs.inventory(get_ctx(), name)
        if as_json:
            output.emit_json(inv.to_json())
            return
        state = f", {inv.migration_state}" if inv.migration_state else ""
        output.table(f"{inv.account} ({inv.model}{state}): {inv.resource_id}",
                     ["container", "blob", "size (bytes)", "lease"],
                     [(container, b.name, b.size_bytes, b.lease)
                      for container, items in inv.containers.items() for b in items])
