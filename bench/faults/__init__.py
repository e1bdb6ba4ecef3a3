"""Fault runs of issue 15: processes killed and databases restarted mid-push, checked by business identifier."""
