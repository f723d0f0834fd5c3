"""Kubernetes side of the console: connection, watches, the cluster picture, actions, port-forwards."""
