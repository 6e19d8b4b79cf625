"""Use cases, one module per noun. Every write use case ends with commit()."""
