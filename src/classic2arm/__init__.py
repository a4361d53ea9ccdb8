"""classic2arm: Azure classic (ASM) to Azure Resource Manager migration, emulated end to end."""

__version__ = "0.1.0"
