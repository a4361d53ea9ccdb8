"""ARM template export: a resource group's ARM resources as a deployment template, as the portal and
`az group export` produce it. Pure: the service reads the resources, this builds the template.

- `$schema` 2019-04-01 deploymentTemplate, each resource with the api-version classic2arm writes its type with;
- a `{type}_{name}_name` String parameter per exported top-level resource (its default the name), unless names
  are not parameterized; resources outside the export become `{type}_{name}_externalid` parameters;
- every resource id in properties becomes `[resourceId(…)]`, and what a resource refers to among the exported
  ones goes into its `dependsOn` (a child resource depends on its parent);
- read-only properties are left out: `provisioningState`, `resourceGuid`, `etag` everywhere, and the
  back-references ARM fills in itself (a load balancer's backend IP configurations, an availability set's VMs):
  they would make the template cyclic;
- what the template cannot carry is reported as warnings, in the shape of the real export's error details.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Final

from . import arm as armt

SCHEMA: Final = "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#"
CONTENT_VERSION: Final = "1.0.0.0"
_READ_ONLY_ANYWHERE: Final = frozenset({"provisioningState", "resourceGuid", "etag"})
# (type, property path) of back-references ARM maintains from the other side.
_BACK_REFERENCES: Final[dict[str, tuple[tuple[str, ...], ...]]] = {
    armt.LOAD_BALANCER: (("backendAddressPools", "*", "properties", "backendIPConfigurations"),
                         ("inboundNatRules", "*", "properties", "backendIPConfiguration")),
    armt.AVAILABILITY_SET: (("virtualMachines",),),
}
_ID = re.compile(r"^/subscriptions/[^/]+/resourceGroups/([^/]+)/providers/([^/]+)/(.+)$", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class ExportWarning:
    """What the export could not carry: the resource and why (the real export's ExportTemplateProviderError)."""

    target: str
    message: str
    code: str = "ExportTemplateProviderError"

    def to_json(self) -> dict[str, str]:
        return {"code": self.code, "target": self.target, "message": self.message}


@dataclass
class Exported:
    template: dict[str, Any]
    warnings: list[ExportWarning] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """The exportTemplate response body."""
        out: dict[str, Any] = {"template": self.template}
        if self.warnings:
            out["error"] = {"code": "ExportTemplateCompletedWithErrors",
                            "message": "Export template operation completed with errors. Some resources were not "
                                       "exported. Please see details for more information.",
                            "details": [w.to_json() for w in self.warnings]}
        return out


def quote(text: str) -> str:
    """An ARM expression string literal."""
    return "'" + text.replace("'", "''") + "'"


def _param_name(rtype: str, name: str, suffix: str) -> str:
    short = rtype.rsplit("/", 1)[-1]
    return re.sub(r"[^A-Za-z0-9_]", "_", f"{short}_{name}_{suffix}")


@dataclass
class _Names:
    """Parameters for names and external ids, and the expressions that refer to exported resources."""

    rg: str
    parameterize: bool
    top: dict[tuple[str, str], str]  # (type lower, name lower) -> name as stored
    params: dict[str, dict[str, Any]] = field(default_factory=dict)
    by_key: dict[tuple[str, str, str], str] = field(default_factory=dict)  # (kind, type, name) -> parameter

    def _param(self, kind: str, rtype: str, name: str, default: str, ident: str | None = None) -> str:
        key = (kind, rtype.lower(), ident or name.lower())
        if key not in self.by_key:
            base = _param_name(rtype, name, kind)
            pname, n = base, 1
            while pname in self.params:
                n += 1
                pname = f"{base}{n}"
            self.by_key[key] = pname
            self.params[pname] = {"defaultValue": default, "type": "string"}
        return self.by_key[key]

    def name_expr(self, rtype: str, name: str) -> str:
        """The expression (inside `[…]`) of an exported top-level resource's name."""
        if not self.parameterize:
            return quote(name)
        return f"parameters({quote(self._param('name', rtype, name, name))})"

    def id_expr(self, value: str) -> tuple[str, str | None] | None:
        """A resource id as a template expression, and the exported top-level resource it makes this one depend
        on (None: outside the export). None when the string is no resource id."""
        m = _ID.match(value)
        if m is None:
            return None
        rg, ns, chain = m.group(1), m.group(2), m.group(3).split("/")
        if len(chain) % 2:
            return None
        types, names = chain[0::2], chain[1::2]
        top_type = f"{ns}/{types[0]}"
        stored = self.top.get((top_type.lower(), names[0].lower())) if rg.lower() == self.rg.lower() else None
        if stored is None:  # outside the export: a parameter holding the top-level resource's id
            if not self.parameterize:
                return value, None
            top_id = "/".join(value.split("/")[:9])
            pname = self._param("externalid", top_type, names[0], top_id, ident=top_id.lower())
            rest = value[len(top_id):]
            if not rest:
                return f"[parameters({quote(pname)})]", None
            return f"[concat(parameters({quote(pname)}), {quote(rest)})]", None
        full_type = "/".join([ns, *types])
        args = [quote(full_type), self.name_expr(top_type, stored), *(quote(n) for n in names[1:])]
        return f"[resourceId({', '.join(args)})]", self.dependency(top_type, stored)

    def dependency(self, rtype: str, name: str) -> str:
        return f"[resourceId({quote(rtype)}, {self.name_expr(rtype, name)})]"


def _strip_back_references(rtype: str, props: dict[str, Any]) -> dict[str, Any]:
    for path in _BACK_REFERENCES.get(rtype, ()):
        _drop(props, list(path))
    return props


def _drop(node: Any, path: list[str]) -> None:
    if not path:
        return
    head, rest = path[0], path[1:]
    if head == "*":
        for item in node if isinstance(node, list) else []:
            _drop(item, rest)
        return
    if isinstance(node, dict):
        if not rest:
            node.pop(head, None)
        else:
            _drop(node.get(head), rest)


def _convert(value: Any, names: _Names, deps: set[str], own: str | None) -> Any:
    """Read-only keys out, resource ids in as expressions (collecting what they make this resource depend on)."""
    if isinstance(value, dict):
        return {k: _convert(v, names, deps, own) for k, v in value.items() if k not in _READ_ONLY_ANYWHERE}
    if isinstance(value, list):
        return [_convert(v, names, deps, own) for v in value]
    if isinstance(value, str) and value.startswith("/subscriptions/"):
        found = names.id_expr(value)
        if found is None:
            return value
        expr, dep = found
        if dep is not None and dep != own:
            deps.add(dep)
        return expr
    return value


def _out_of_scope_warnings(resources: Iterable[dict[str, Any]]) -> list[ExportWarning]:
    out = []
    for r in resources:
        rtype = str(r.get("type", ""))
        if rtype.lower().startswith("microsoft.classic"):
            out.append(ExportWarning(str(r["id"]), f"Could not get resources of the type '{rtype}'. Classic resources "
                                             "are read-only through Azure Resource Manager and will not be "
                                             "exported; migrate them first."))
        else:
            out.append(ExportWarning(str(r["id"]), f"The resource type '{rtype}' cannot be exported."))
    return out


def export(rg: str, resources: list[dict[str, Any]], *, parameterize: bool = True) -> Exported:
    """The template of `resources` (ARM JSON as served, top-level resources and child ones such as VM
    extensions) of resource group `rg`."""
    exportable = [r for r in resources if r.get("type") in armt.API_VERSIONS and r.get("type") not in (
        armt.RESOURCE_GROUP, armt.SUBNET)]
    skipped = [r for r in resources if r.get("type") not in armt.API_VERSIONS]
    warnings = _out_of_scope_warnings(skipped)
    top = {(str(r["type"]).lower(), str(r["name"]).lower()): str(r["name"]) for r in exportable
           if str(r["type"]).count("/") == 1}
    names = _Names(rg, parameterize, top)
    # parameters in resource order (the names first, as the real export lists them)
    for r in exportable:
        if str(r["type"]).count("/") == 1:
            names.name_expr(str(r["type"]), str(r["name"]))
    out: list[dict[str, Any]] = []
    for r in sorted(exportable, key=lambda r: (str(r["type"]).count("/"), str(r["type"]), str(r["name"]).lower())):
        out.append(_resource(r, names))
        warnings += _warnings_of(r)
    template: dict[str, Any] = {"$schema": SCHEMA, "contentVersion": CONTENT_VERSION, "parameters": names.params,
                                "variables": {}, "resources": out}
    return Exported(template, warnings)


def _resource(r: dict[str, Any], names: _Names) -> dict[str, Any]:
    rtype = str(r["type"])
    parts = str(r["id"]).split("/")
    deps: set[str] = set()
    if rtype.count("/") == 1:
        own: str | None = names.dependency(rtype, str(r["name"]))
        name = f"[{names.name_expr(rtype, str(r['name']))}]" if names.parameterize else str(r["name"])
    else:  # a child resource (VM extension): `parent/child`, depending on its parent
        parent_type, parent_name = "/".join(rtype.split("/")[:2]), parts[-3]
        stored = names.top.get((parent_type.lower(), parent_name.lower()), parent_name)
        own = None
        deps.add(names.dependency(parent_type, stored))
        name = (f"[concat({names.name_expr(parent_type, stored)}, {quote('/' + str(r['name']))})]"
                if names.parameterize else f"{stored}/{r['name']}")
    item: dict[str, Any] = {"type": rtype, "apiVersion": armt.API_VERSIONS[rtype], "name": name}
    for key in ("location", "tags", "sku", "kind"):
        if r.get(key):
            item[key] = _convert(r[key], names, deps, own)
    props = _strip_back_references(rtype, copy.deepcopy(r.get("properties") or {}))
    item["properties"] = _convert(props, names, deps, own)
    if deps:
        item["dependsOn"] = sorted(deps)
    return item


def _warnings_of(r: dict[str, Any]) -> list[ExportWarning]:
    rtype, rid = str(r["type"]), str(r["id"])
    props = r.get("properties") or {}
    out = []
    if rtype == armt.VM:
        storage = props.get("storageProfile") or {}
        disks = [d for d in [storage.get("osDisk"), *(storage.get("dataDisks") or [])] if isinstance(d, dict)]
        vhds = sorted({str((d.get("vhd") or {}).get("uri")) for d in disks if (d.get("vhd") or {}).get("uri")})
        if vhds:
            out.append(ExportWarning(rid, f"The virtual machine attaches {len(vhds)} unmanaged disk(s) by VHD URI "
                                    f"({', '.join(vhds[:3])}{', …' if len(vhds) > 3 else ''}): the template points at "
                                    "the same blobs, which it does not copy.", "ExportTemplateUnmanagedDisks"))
    if rtype == armt.KEY_VAULT:
        out.append(ExportWarning(rid, "The key vault's secrets and certificates are data, not exported.",
                           "ExportTemplateSecretsNotExported"))
    if rtype == armt.STORAGE_ACCOUNT:
        out.append(ExportWarning(rid, "The storage account's blobs are data, not exported.",
                           "ExportTemplateDataNotExported"))
    return out


def comparable(rtype: str, doc: dict[str, Any]) -> dict[str, Any]:
    """A resource without what ARM computes itself (read-only keys, back-references, the `type` ARM gives the
    children it keeps inline): what what-if and a round trip compare."""
    def strip(value: Any, inline: bool = False) -> Any:
        if isinstance(value, dict):
            return {k: strip(v, k == "properties" or inline) for k, v in value.items()
                    if k not in _READ_ONLY_ANYWHERE and not (inline and k == "type" and "name" in value)}
        if isinstance(value, list):
            return [strip(v, inline) for v in value]
        return value

    out = strip(copy.deepcopy(doc))
    if isinstance(out.get("properties"), dict):
        _strip_back_references(rtype, out["properties"])
    return dict(out)
