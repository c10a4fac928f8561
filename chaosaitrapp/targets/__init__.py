"""Drivers that stop, start and inspect a dependency, named by a target string.

| target | driver |
|---|---|
| ``docker:NAME`` | :mod:`chaosaitrapp.targets.docker`: container name or compose service label |
| ``process:PIDFILE`` | :mod:`chaosaitrapp.targets.process`: a local process and its start command |
| ``lab:NAME`` | :mod:`chaosaitrapp.targets.lab`: a dependency the lab started (reads ``lab.json``) |
| ``auto`` | ``lab:NAME`` when a lab is up, else ``docker:<container>`` |
"""
