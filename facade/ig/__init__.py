"""The VTE implementation guide: terminology generation, SUSHI build, consistency checks, HAPI loading.

Import the submodules directly: ``facade.ig.build`` doubles as a script
(``python -m facade.ig.build``), so this package does not import it.
"""
