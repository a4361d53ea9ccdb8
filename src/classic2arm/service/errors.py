"""Errors a service call can end with. Adapters map them to exit codes / HTTP statuses."""

from __future__ import annotations


class ServiceError(Exception):
    """A refused or failed request, with an ASM/ARM-style code and the exact message text."""

    http_status = 400

    def __init__(self, code: str, message: str, http_status: int | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        if http_status is not None:
            self.http_status = http_status

    def __str__(self) -> str:
        return self.message


class NotFound(ServiceError):
    http_status = 404

    def __init__(self, message: str, code: str = "ResourceNotFound") -> None:
        super().__init__(code, message)


class BadInput(ServiceError):
    """Input that names something inconsistent (unknown affinity group, dangling reference…)."""

    def __init__(self, source: str, where: str, message: str) -> None:
        super().__init__("BadRequest", f"{source}: {where}: {message}")
        self.source = source
        self.where = where


class BadInputs(BadInput):
    """Every problem of one import, each `file: where: what`, so that one run reports them all."""

    def __init__(self, problems: list[str]) -> None:
        text = problems[0] if len(problems) == 1 else f"{len(problems)} problems:\n" + "\n".join(problems)
        ServiceError.__init__(self, "BadRequest", text)
        self.problems = problems
        self.source, _, rest = problems[0].partition(": ")
        self.where = rest.partition(": ")[0]


class Locked(ServiceError):
    http_status = 409

    def __init__(self, message: str, code: str = "ConflictError") -> None:
        super().__init__(code, message)


class StoreUnavailable(ServiceError):
    """The database cannot serve (see context.store_failure): a 503 with the reason."""

    http_status = 503

    def __init__(self, reason: str) -> None:
        super().__init__("ServiceUnavailable", f"The store is unavailable: {reason}")
        self.reason = reason
