"""Watching Sésame run: the probes (`/healthz`, `/readyz`), the Prometheus metrics (`/metrics`),
and JSON logs where every line of a request carries its id (docs/deployment.md, "Watching it")."""
