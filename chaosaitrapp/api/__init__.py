"""How the extension talks to the AITRAPP API: the HTTP client, the readiness answer and the metrics text."""
