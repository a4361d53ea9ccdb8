"""The one exception every importer raises for bad input."""

from __future__ import annotations


class InputError(Exception):
    """A file could not be imported.

    `path` names the file, `where` the spot inside it (element path, field, line or JSON entry) and
    `message` what is wrong, so a user can fix the file without reading a traceback.
    """

    def __init__(self, path: str, where: str, message: str) -> None:
        super().__init__(path, where, message)
        self.path = path
        self.where = where
        self.message = message

    def __str__(self) -> str:
        return f"{self.path}: {self.where}: {self.message}"

    def within(self, path: str, prefix: str) -> InputError:
        """The same error re-homed inside an outer file (e.g. an XML body inside a JSON record)."""
        where = f"{prefix}/{self.where}" if self.where else prefix
        return InputError(path, where, self.message)


class InputErrors(InputError):
    """Several files of one import could not be read: every error, each naming its file, in one run."""

    def __init__(self, errors: list[InputError]) -> None:
        first = errors[0]
        super().__init__(first.path, first.where, first.message)
        self.errors = errors

    def __str__(self) -> str:
        return f"{len(self.errors)} files could not be imported:\n" + "\n".join(str(e) for e in self.errors)
