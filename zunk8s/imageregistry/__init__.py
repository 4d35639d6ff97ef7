"""Image registries over the OCI distribution API: the catalog zunk8s searches (catalog.py) and
the rule for which registries are spoken to in plain HTTP (hosts.py). The node agent's push is
node/registrypush.py."""
