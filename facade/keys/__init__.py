"""Key management: re-sealing stored credentials and records under a new master key."""

from facade.keys.rotation import SEALED_COLUMNS, RotationReport, rotate_master, seal_status

__all__ = ["SEALED_COLUMNS", "RotationReport", "rotate_master", "seal_status"]
