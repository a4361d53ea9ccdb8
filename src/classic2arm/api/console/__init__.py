"""The web console (issue 13): server-rendered pages at `/` beside the APIs (see docs/console.md)."""

from .routes import install

__all__ = ["install"]
