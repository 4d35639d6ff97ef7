"""The websocket endpoint for attach and interactive exec (bridged to Kubernetes streams)."""
