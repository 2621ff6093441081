"""Sub-commands of the ``usegan`` CLI, one module each; see :mod:`usegan.cli`.

The modules here never import :mod:`usegan.cli` (which imports them): the error they raise lives here.
"""


class CommandError(Exception):
    """An error the CLI reports as one line (no traceback) with exit code 2."""
