"""The ``vte-facade`` command line: people get tables, scripts get ``--json``."""
