"""The audit trail: one AuditEvent per request through either door, durable before forwarding."""
