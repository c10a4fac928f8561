"""Gray failures: a dependency that is up, accepts connections and hangs (a Redis stalled by ``CLIENT PAUSE``)."""
