"""Backup and restore of the facade database and HAPI's database, with a manifest and checksums."""

from facade.backup.archive import BackupError, create_backup, restore_backup, verify_backup
from facade.backup.manifest import Manifest

__all__ = ["BackupError", "Manifest", "create_backup", "restore_backup", "verify_backup"]
