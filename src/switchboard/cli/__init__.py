"""The ``switchboard`` command: one module per command group (see ``main.COMMANDS``)."""
