"""Pure translation between Zun and Kubernetes: no I/O, no clock, no globals."""
