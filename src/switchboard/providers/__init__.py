"""Built-in provider adapters, one package each. They register through the same path as
third-party plugins (see ``switchboard.registry``)."""
