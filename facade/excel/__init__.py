"""The Excel fallback: a template generated from the dictionary, and workbook import into the native intake."""
