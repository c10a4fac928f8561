"""Network partitions between the target and its dependencies: the path is cut while the dependency
keeps running. Two mechanisms: the TCP fault proxy (:mod:`chaosaitrapp.network.proxy`, toxiproxy-style:
the lab wires Redis and Postgres through it) and kernel rules (:mod:`chaosaitrapp.network.kernel`:
nftables, in a table of the project's own); the actions are :mod:`chaosaitrapp.network.actions`.
"""
