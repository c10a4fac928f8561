"""Signal torture trials: `chaos run` interrupted (SIGINT, SIGTERM, SIGKILL) mid-method, the lab must come back."""
