"""The crash family: the trader killed at a chosen moment of an order's life and started again as it ran."""
