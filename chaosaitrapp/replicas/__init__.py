"""The target's replicas: who they are (:mod:`~chaosaitrapp.replicas.topology`), freezing one
(:mod:`~chaosaitrapp.replicas.pause`), the split-brain faults (:mod:`~chaosaitrapp.replicas.actions`) and
probes (:mod:`~chaosaitrapp.replicas.probes`)."""
