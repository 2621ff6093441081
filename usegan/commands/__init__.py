"""Sub-commands of the ``usegan`` CLI, one module each; see :mod:`usegan.cli`."""
