"""The classic Service Management (ASM) API: XML over `/{subscription-id}/...` (spec §5)."""
