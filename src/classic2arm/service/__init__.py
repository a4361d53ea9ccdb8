"""Use cases over the store: import, inventory, clock and retirement, migration operations."""
