"""The broker simulator: a Kite-like order REST API with a rate limit and expiring access tokens,
plus a market-data WebSocket (``python -m chaosaitrapp.lab.broker``)."""
