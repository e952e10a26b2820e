"""The rules `make k8s-check` applies to the rendered manifests, one module per concern."""
