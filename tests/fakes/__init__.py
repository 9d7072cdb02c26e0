"""HTTP-level fakes of the upstream vendors: the one thing our tests fake."""
