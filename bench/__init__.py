"""`make bench-taps`: tap throughput and latency against gunicorn on PostgreSQL (README.md)."""
