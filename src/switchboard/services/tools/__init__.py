"""Tools that Switchboard itself runs for a model (issue 14): the contract in ``contract``,
built-in tools and MCP servers as sources of tools, the loop as a step of the pipeline."""
