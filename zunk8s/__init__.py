"""zunk8s: the OpenStack Zun v1 container API, carried out on Kubernetes."""

__version__ = "0.1.0"
