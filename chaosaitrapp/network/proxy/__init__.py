"""The TCP fault proxy: byte-for-byte relay of named routes (``redis``, ``postgres``...) with blackhole,
reject and latency faults; ``python -m chaosaitrapp.network.proxy``."""
