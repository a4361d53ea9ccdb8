"""Storage accounts (row 26): a general-purpose v1 ARM account with the same name, URLs and keys."""

from __future__ import annotations

from typing import Final

from .. import arm
from .. import classic as c
from .. import identity as ids
from .context import Ctx, Json

_SKUS: Final = {s.lower(): s for s in ("Standard_LRS", "Standard_GRS", "Standard_RAGRS", "Standard_ZRS",
                                       "Premium_LRS")}


def sku_name(account_type: str) -> str:
    """Classic AccountType is already an ARM SKU name; only its case is normalised. Unknown types pass
    through unchanged so a bad value shows up in schema validation instead of being silently replaced."""
    return _SKUS.get(account_type.strip().lower(), account_type)


def add_storage_account(ctx: Ctx, account: c.StorageAccount, rg: str) -> str:
    blob, queue, table, file = account.endpoints()
    # Premium (page-blob only) accounts expose just the blob service.
    endpoints = {"blob": blob} if account.is_premium else {"blob": blob, "queue": queue, "table": table,
                                                           "file": file}
    props: Json = {"primaryEndpoints": endpoints, "primaryLocation": ctx.location, "statusOfPrimary": "Available"}
    if account.created is not None:
        props["creationTime"] = account.created.isoformat()
    res = ctx.resource(rg, arm.STORAGE_ACCOUNT, account.name, props, kind="Storage",
                       sku={"name": sku_name(account.account_type)})
    # the data stays where it is: the ARM account keeps the classic one's blob inventory (the VHDs included)
    res.blobs = {path: blob.model_copy() for path, blob in account.blobs.items()}
    return ctx.out.add(res, ids.storage_id(ctx.sub, account.name))
