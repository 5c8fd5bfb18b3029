"""Migration scripts, applied in order by `open_store`."""
