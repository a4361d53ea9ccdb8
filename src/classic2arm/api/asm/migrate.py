"""The 24 migration calls (spec §5.2–5.3): `POST …/migration?comp=validate|prepare|commit|abort` on six unit
kinds. Validate answers 200 with ValidationMessages; prepare/commit/abort answer 202 and run in the
background, polled through Get Operation Status. All decisions are the migration service's."""

from __future__ import annotations

from collections.abc import Callable

from starlette.background import BackgroundTask
from starlette.responses import Response

from ...domain.state_machine import Op
from ...domain.units import UnitKind, UnitRef
from ...service import migration, operations
from . import bodies, xml_out
from .guard import AsmRequest, accepted, bad_request, xml

COMPS = {"validate": Op.VALIDATE, "prepare": Op.PREPARE, "commit": Op.COMMIT, "abort": Op.ABORT}


def _comp(req: AsmRequest) -> Op:
    values = [v for k, v in req.query.items() if k.lower() == "comp"]
    if len(values) != 1 or values[0].lower() not in COMPS:
        raise bad_request("The migration call needs ?comp=validate, prepare, commit or abort.")
    return COMPS[values[0].lower()]


def _run(req: AsmRequest, ref: UnitRef, op: Op) -> Response:
    if op == Op.VALIDATE:
        result = migration.validate(req.ctx, ref)
        return xml(xml_out.validation_messages(result.messages), request_id=result.operation_id)
    view = migration.start(req.ctx, op, ref)
    if view.status == operations.IN_PROGRESS:
        req.background.append(BackgroundTask(migration.run, req.ctx, view.id))
    return accepted(view.id)


def deployment(req: AsmRequest) -> Response:
    op = _comp(req)
    dest = bodies.destination(req) if op in (Op.VALIDATE, Op.PREPARE) else None
    return _run(req, UnitRef(UnitKind.DEPLOYMENT, req.param("dep"), req.param("svc"), dest), op)


def _named(kind: UnitKind) -> Callable[[AsmRequest], Response]:
    def handler(req: AsmRequest) -> Response:
        return _run(req, UnitRef(kind, req.param("name")), _comp(req))

    handler.__name__ = f"migrate_{kind.value.replace('-', '_')}"
    return handler


vnet = _named(UnitKind.VNET)
storage = _named(UnitKind.STORAGE)
reserved_ip = _named(UnitKind.RESERVED_IP)
nsg = _named(UnitKind.NSG)
route_table = _named(UnitKind.ROUTE_TABLE)
