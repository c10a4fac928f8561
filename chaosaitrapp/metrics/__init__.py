"""Prometheus metrics: scraped from ``/metrics`` (prometheus_client's parser) or queried in Prometheus."""
