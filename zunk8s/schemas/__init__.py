"""Request validation and response views of the Zun API (pure: no I/O)."""
