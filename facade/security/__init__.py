"""Access control for system clients: SMART Backend Services tokens, roles and scopes."""
