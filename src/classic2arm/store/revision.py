"""The schema revision this version of classic2arm writes, in a module of its own so that a reader which
needs nothing else (`quick.py`) does not import SQLAlchemy for it."""

# The newest revision in migrations/versions (a test checks it is Alembic's head).
HEAD = "0008"
