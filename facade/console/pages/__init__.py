"""The console's pages, one module per area; each has its own router of ConsoleRoute routes."""
