"""The admin API (`classic2arm serve --admin`): reset, import, clock, faults, pacing and credentials, under
/admin/…, JSON, protected by the admin token. `install(app, token)` mounts it."""

from .routes import install

__all__ = ["install"]
