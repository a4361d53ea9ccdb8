"""Write handlers: parse the body, call the classic-writes use case, answer as ASM does (202 + request id
for asynchronous operations, 201/200 for the synchronous ones)."""

from __future__ import annotations

from starlette.responses import Response

from ...service import classic_writes as cw
from . import bodies, out_storage
from .guard import AsmRequest, accepted, bad_request, xml


def _media(req: AsmRequest) -> bool:
    return any(k.lower() == "comp" and v.lower() == "media" for k, v in req.query.items())


def create_hosted_service(req: AsmRequest) -> Response:
    return accepted(cw.create_hosted_service(req.ctx, bodies.hosted_service(req)), status=201)


def delete_hosted_service(req: AsmRequest) -> Response:
    complete = _media(req)
    op = cw.delete_hosted_service(req.ctx, req.param("svc"), complete)
    return accepted(op, status=202 if complete else 200)


def create_deployment(req: AsmRequest) -> Response:
    dep, roles = bodies.deployment(req, req.param("svc"))
    return accepted(cw.create_deployment(req.ctx, dep, roles))


def delete_deployment(req: AsmRequest) -> Response:
    return accepted(cw.delete_deployment(req.ctx, req.param("svc"), req.param("dep"), _media(req)))


def add_role(req: AsmRequest) -> Response:
    svc, dep = req.param("svc"), req.param("dep")
    return accepted(cw.add_role(req.ctx, svc, dep, bodies.role(req, svc, dep)))


def update_role(req: AsmRequest) -> Response:
    svc, dep, name = req.param("svc"), req.param("dep"), req.param("role")
    return accepted(cw.update_role(req.ctx, svc, dep, name, bodies.role_changes(req, svc, dep, name)))


def delete_role(req: AsmRequest) -> Response:
    return accepted(cw.delete_role(req.ctx, req.param("svc"), req.param("dep"), req.param("role"), _media(req)))


def add_data_disk(req: AsmRequest) -> Response:
    svc, role = req.param("svc"), req.param("role")
    return accepted(cw.add_data_disk(req.ctx, svc, req.param("dep"), role, bodies.data_disk(req, svc, role)))


def role_operation(req: AsmRequest) -> Response:
    kind, action = bodies.role_operation(req)
    svc, dep, role = req.param("svc"), req.param("dep"), req.param("role")
    if kind == "StartRoleOperation":
        return accepted(cw.set_power(req.ctx, svc, dep, role, start=True))
    if kind == "RestartRoleOperation":
        return accepted(cw.restart_role(req.ctx, svc, dep, role))
    if kind == "ShutdownRoleOperation":
        return accepted(cw.set_power(req.ctx, svc, dep, role, start=False,
                                     deallocate=(action or "Stopped") == "StoppedDeallocated"))
    raise bad_request(f"The operation {kind} is not supported by this emulator; use StartRoleOperation, "
                      f"RestartRoleOperation or ShutdownRoleOperation.")


def create_storage_account(req: AsmRequest) -> Response:
    return accepted(cw.create_storage_account(req.ctx, bodies.storage_account(req)))


def delete_storage_account(req: AsmRequest) -> Response:
    return accepted(cw.delete_storage_account(req.ctx, req.param("name")), status=200)


def create_reserved_ip(req: AsmRequest) -> Response:
    return accepted(cw.create_reserved_ip(req.ctx, bodies.reserved_ip(req)))


def delete_reserved_ip(req: AsmRequest) -> Response:
    return accepted(cw.delete_reserved_ip(req.ctx, req.param("name")))


def associate_reserved_ip(req: AsmRequest) -> Response:
    svc, dep, vip = bodies.association(req)
    return accepted(cw.associate_reserved_ip(req.ctx, req.param("name"), svc, dep, vip))


def disassociate_reserved_ip(req: AsmRequest) -> Response:
    svc, dep, _vip = bodies.association(req)
    return accepted(cw.disassociate_reserved_ip(req.ctx, req.param("name"), svc, dep))


def set_network_configuration(req: AsmRequest) -> Response:
    estate = bodies.network_configuration(req)
    return accepted(cw.set_network_configuration(req.ctx, estate.virtual_networks, estate.local_network_sites))


# --------------------------------------------------------------------------- disks and images (Delete Disk is
# synchronous: 200; Delete OS Image 200; Delete VM Image asynchronous: 202; Update Disk 200 with the disk, or
# 202 for a resize)


def delete_disk(req: AsmRequest) -> Response:
    return accepted(cw.delete_disk(req.ctx, req.param("name"), _media(req)), status=200)


def update_disk(req: AsmRequest) -> Response:
    name = req.param("name")
    label, resized = bodies.disk_update(req, name)
    op, disk = cw.update_disk(req.ctx, name, resized_size_gb=resized, label=label)
    if resized is not None:
        # The .NET SDK's BeginUpdatingDisk (UpdateDiskSize, what Update-AzureDisk -ResizedSizeInGB calls) takes
        # only 202 Accepted and polls the request id; its UpdateDisk takes only 200 and reads the <Disk> back.
        return accepted(op)
    return xml(out_storage.disk(disk), request_id=op)


def delete_os_image(req: AsmRequest) -> Response:
    return accepted(cw.delete_os_image(req.ctx, req.param("name"), _media(req)), status=200)


def delete_vm_image(req: AsmRequest) -> Response:
    return accepted(cw.delete_vm_image(req.ctx, req.param("name"), _media(req)))
