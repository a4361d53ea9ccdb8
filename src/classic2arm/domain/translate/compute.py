"""Compute translation: VMs (rows 2, 3, 6, 28; sizes through `..sizes`, VHDs through `..media`), extensions
(4), availability sets (7) and the per-cloud-service key vault (5)."""

from __future__ import annotations

import base64
import binascii
import contextlib
import json
from typing import Final

from .. import arm, media, sizes, vm_power
from .. import classic as c
from .. import identity as ids
from ..units import CloudService
from . import names
from .context import Ctx, Json, ref

_CACHING: Final = {"none": "None", "readonly": "ReadOnly", "readwrite": "ReadWrite"}
# [P] The snapshot carries no Azure AD tenant; an all-zero GUID says "unknown" rather than a wrong tenant.
UNKNOWN_TENANT: Final = "00000000-0000-0000-0000-000000000000"
# Windows puts service certificates in the machine's personal store, as classic did.
CERT_STORE: Final = "My"


def caching(value: str) -> str:
    return _CACHING.get(value.strip().lower(), value)


# --------------------------------------------------------------------------- key vault (row 5)


def _secret_url(vault: str, thumbprint: str) -> str:
    # Secret names allow alnum and '-'; a hex thumbprint is already valid and unique per certificate.
    return f"{names.key_vault_uri(vault)}secrets/{thumbprint.upper()}"


def key_vault(ctx: Ctx, cs: CloudService, rg: str) -> str | None:
    """One vault per cloud service that has certificates; VMs point at it from osProfile.secrets."""
    if not cs.hosted_service.certificates:
        return None
    vault = names.key_vault(cs.name)
    return ctx.out.add(ctx.resource(rg, arm.KEY_VAULT, vault, {
        "tenantId": UNKNOWN_TENANT, "sku": {"family": "A", "name": "standard"}, "accessPolicies": [],
        # VMs fetch their certificates from the vault at deployment time.
        "enabledForDeployment": True, "vaultUri": names.key_vault_uri(vault),
    }), ids.hosted_service_id(ctx.sub, cs.name))


# --------------------------------------------------------------------------- availability sets (row 7)


def availability_sets(ctx: Ctx, cs: CloudService, rg: str) -> dict[str, str]:
    """Lower classic AvailabilitySetName -> ARM id. Classic allowed at most 2 fault domains and 5 update
    domains; ARM keeps the same counts so VM placement does not change."""
    members: dict[str, tuple[str, list[str]]] = {}
    for vm in cs.vms:
        if vm.availability_set:
            vm_id = ctx.arm_id(rg, arm.VM, vm.name)
            members.setdefault(vm.availability_set.lower(), (vm.availability_set, []))[1].append(vm_id)
    origin = ids.deployment_id(ctx.sub, cs.name, cs.deployment.name)
    return {
        key: ctx.out.add(ctx.resource(rg, arm.AVAILABILITY_SET, name, {
            "platformFaultDomainCount": 2, "platformUpdateDomainCount": 5,
            "virtualMachines": [ref(v) for v in vms]}), origin)
        for key, (name, vms) in members.items()
    }


# --------------------------------------------------------------------------- VMs (rows 2, 3, 6, 28)


def _data_disk(ctx: Ctx, d: c.DataDisk) -> Json:
    disk: Json = {"lun": d.lun, "name": d.disk_name, "vhd": {"uri": d.media_link}, "caching": caching(d.host_caching),
                  "createOption": "Attach"}
    blob = ctx.snap.blob(d.media_link)
    # R25: a blob whose size disagrees with LogicalDiskSizeInGB migrates without a size; an unknown blob is
    # trusted to match, as classic itself reported that size.
    if blob is None or blob.size_bytes == media.vhd_blob_size(d.logical_size_gb):
        disk["diskSizeGB"] = d.logical_size_gb
    return disk


def _storage_profile(ctx: Ctx, vm: c.Role) -> Json:
    profile: Json = {"dataDisks": [_data_disk(ctx, d) for d in sorted(vm.data_disks, key=lambda d: d.lun)]}
    if vm.os_disk is not None:
        od = vm.os_disk
        profile["osDisk"] = {"name": od.disk_name, "osType": od.os, "vhd": {"uri": od.media_link},
                             "caching": caching(od.host_caching), "createOption": "Attach"}
    return profile


def _os_profile(cs: CloudService, vm: c.Role, vault: str | None) -> Json | None:
    """Only what classic stored (row 2: nothing is invented), the WinRM listeners (row 6) and the vault's
    certificates (row 5). VMs that had none of these get no osProfile at all."""
    windows = vm.os_disk is None or vm.os_disk.os == "Windows"
    vault_name = names.key_vault(cs.name)
    profile: Json = {}
    if vm.computer_name:
        profile["computerName"] = vm.computer_name
    if vm.admin_username:
        profile["adminUsername"] = vm.admin_username
    if windows and vm.winrm_listeners:
        listeners = []
        for raw in vm.winrm_listeners:
            li = {k.lower(): v for k, v in raw.items()}
            https = li.get("protocol", "").lower() == "https"
            listener: Json = {"protocol": "Https" if https else "Http"}
            if https and vault and (thumb := li.get("certificate_thumbprint") or li.get("certificatethumbprint")):
                listener["certificateUrl"] = _secret_url(vault_name, thumb)
            listeners.append(listener)
        profile["windowsConfiguration"] = {"provisionVMAgent": vm.provision_guest_agent,
                                           "winRM": {"listeners": listeners}}
    if vault:
        certs: list[Json] = []
        for cert in cs.hosted_service.certificates:
            entry: Json = {"certificateUrl": _secret_url(vault_name, cert.thumbprint)}
            if windows:
                entry["certificateStore"] = CERT_STORE  # Linux VMs take no store (ARM rejects one)
            certs.append(entry)
        profile["secrets"] = [{"sourceVault": ref(vault), "vaultCertificates": certs}]
    return profile or None


def add_vm(ctx: Ctx, cs: CloudService, vm: c.Role, rg: str, nic_ids: list[str], avset: str | None,
           vault: str | None) -> str:
    props: Json = {
        "hardwareProfile": {"vmSize": sizes.arm_size(vm.size)},
        "storageProfile": _storage_profile(ctx, vm),
        "networkProfile": {"networkInterfaces": [
            {"id": nic, "properties": {"primary": i == 0}} for i, nic in enumerate(nic_ids)]},
    }
    if (os_profile := _os_profile(cs, vm, vault)) is not None:
        props["osProfile"] = os_profile
    if avset:
        props["availabilitySet"] = ref(avset)
    if vm.boot_diagnostics is not None:
        diag: Json = {"enabled": vm.boot_diagnostics.enabled}
        if vm.boot_diagnostics.storage_uri:
            diag["storageUri"] = vm.boot_diagnostics.storage_uri
        props["diagnosticsProfile"] = {"bootDiagnostics": diag}
    if vm.license_type:
        props["licenseType"] = vm.license_type
    origin = ids.role_id(ctx.sub, cs.name, cs.deployment.name, vm.name)
    power = vm_power.after_migration(vm.instance_status, bool(cs.deployment.virtual_network_name))
    return ctx.out.add(ctx.resource(rg, arm.VM, vm.name, props, power=power), origin)


# --------------------------------------------------------------------------- extensions (row 4)


def _settings(public_config: str | None) -> Json | None:
    """Classic public config is JSON, sometimes base64-wrapped; anything else (XML) cannot be ARM settings."""
    if not public_config:
        return {}
    candidates = [public_config]
    with contextlib.suppress(binascii.Error, UnicodeDecodeError):
        candidates.append(base64.b64decode(public_config, validate=True).decode("utf-8"))
    for text in candidates:
        try:
            value = json.loads(text)
        except ValueError:
            continue
        if isinstance(value, dict):
            return value
    return None


def _handler_version(version: str) -> tuple[str, bool]:
    """Classic pins `1.*` for "latest 1.x"; ARM wants `major.minor` plus autoUpgradeMinorVersion."""
    if version.endswith(".*") or version == "*":
        major = version.split(".")[0]
        return (f"{major}.0" if major != "*" else "1.0"), True
    return version, False


def add_extensions(ctx: Ctx, cs: CloudService, vm: c.Role, vm_id: str) -> None:
    origin = ids.role_id(ctx.sub, cs.name, cs.deployment.name, vm.name)
    for ext in vm.extensions:
        where = f"{cs.name}/{vm.name}"
        if ext.is_xml_extension:
            ctx.out.drop(f"XML extension {ext.name} {ext.version} ({ext.reference_name}) on {where}: "
                         "not supported in ARM, not migrated")
            continue
        settings = _settings(ext.public_config)
        if settings is None:
            ctx.out.drop(f"public configuration of extension {ext.reference_name} on {where} is not JSON: "
                         "migrated with empty settings")
            settings = {}
        version, auto = _handler_version(ext.version)
        props: Json = {"publisher": ext.publisher, "type": ext.name, "typeHandlerVersion": version,
                       "autoUpgradeMinorVersion": auto, "settings": settings}
        ctx.out.add(ctx.child_resource(vm_id, arm.VM_EXTENSION, ext.reference_name, props), origin)
