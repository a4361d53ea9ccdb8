"""Between domain objects and stored rows. The only place that knows both shapes."""

from __future__ import annotations

from typing import Any

from ..domain import classic as c
from ..domain.arm import ArmResource, placement
from ..domain.identity import ARM, CLASSIC, MODEL_BY_TYPE, classic_identity, key_of
from ..store import Row


def classic_row(sub: str, obj: c.Model, location: str | None = None, rg: str | None = None,
                migration_state: str | None = None) -> Row:
    ident = classic_identity(sub, obj, location, rg)
    return Row(id=ident.id, subscription_id=sub, model=CLASSIC, type=ident.type, name=ident.name,
               doc=obj.model_dump(mode="json", exclude_defaults=False), parent_key=key_of(ident.parent_id)
               if ident.parent_id else None, resource_group=ident.resource_group, location=ident.location,
               status=ident.status, arm_id=ident.arm_id, migration_state=migration_state)


def arm_row(res: ArmResource, migration_state: str | None = None, lock_holder: str | None = None) -> Row:
    sub, rg, parent = placement(res)
    return Row(id=res.id, subscription_id=sub, model=ARM, type=res.type, name=res.name,
               doc=res.stored(), parent_key=key_of(parent) if parent else None,
               resource_group=rg, location=res.location,
               status=str(res.properties.get("provisioningState")) if res.properties else None,
               migration_state=migration_state, lock_holder=lock_holder)


def classic_object(row: Row) -> c.Model:
    model = MODEL_BY_TYPE.get(row.type)
    if model is None:
        raise TypeError(f"{row.id}: not a classic resource type ({row.type})")
    return model.model_validate(row.doc)


def arm_object(row: Row) -> ArmResource:
    return ArmResource.model_validate(row.doc)


def doc_field(row: Row, name: str, default: Any = None) -> Any:
    return row.doc.get(name, default)
