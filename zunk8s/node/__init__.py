"""The node agent (``zunk8s agent``): what Kubernetes cannot do to a container, done through the
node's container runtime for the zunk8s installation it serves."""
