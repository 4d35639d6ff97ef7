"""Container lifecycle: the state table, task_state, locks, background work and reconciliation."""
