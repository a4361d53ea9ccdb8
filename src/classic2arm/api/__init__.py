"""HTTP adapters: the classic Service Management API (XML) and the ARM API (JSON) over one store."""
