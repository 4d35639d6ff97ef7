"""WSGI entry point for the test-bed Keystone under gunicorn (copied by deploy/keystone).

Keystone's WSGI setup calls oslo.config with ``args=None``, so oslo.config parses
``sys.argv[1:]``, which under gunicorn is gunicorn's own command line: the worker then exits
with status 2 and gunicorn respawns it forever while the master keeps accepting connections (a
client hangs). Keystone must see no arguments; the configuration is found through
``OS_KEYSTONE_CONFIG_DIR`` (``keystone.conf`` in that directory), set by deploy/keystone.
"""

import sys

sys.argv = sys.argv[:1]

from keystone.wsgi.api import application  # noqa: E402

__all__ = ["application"]
