"""The only package that talks to Kubernetes (REST, watches, exec/attach streams).

kubernetes_asyncio supplies configuration loading (kubeconfig or in-cluster, TLS, token
refresh) and its aiohttp session; requests are made on that session with plain JSON
bodies, so no generated model object ever leaves this package.
"""
