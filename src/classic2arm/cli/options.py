"""Options several commands share (the filters of `inventory` and `status`, output formats)."""

from __future__ import annotations

from typing import Annotated

import typer

from . import output

JsonOpt = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]
FormatOpt = Annotated[str, typer.Option("--format", help="auto (a table on a terminal, tab-separated rows "
                                                         "otherwise), table or tsv.")]
LocationOpt = Annotated[str | None, typer.Option("--location", help="Only in this region ('West US' or "
                                                                  "'westus').")]
VnetOpt = Annotated[str | None, typer.Option("--vnet", help="Only in this classic virtual network.")]
CloudServiceOpt = Annotated[str | None, typer.Option("--cloud-service", help="Only of this cloud service.")]
PowerOpt = Annotated[str | None, typer.Option("--power-state", help="Only VMs in this power state (Started, "
                                                                    "Stopped, StoppedDeallocated, …).")]
MigrationOpt = Annotated[str | None, typer.Option("--migration-state", help="Only in this migration state "
                                                                            "(NotPrepared, Prepared, …).")]
SummaryOpt = Annotated[bool, typer.Option("--summary", help="Print only the counts.")]


def check_format(fmt: str) -> str:
    if fmt not in output.FORMATS:
        raise typer.BadParameter(f"must be one of {', '.join(output.FORMATS)}", param_hint="--format")
    return fmt
