"""The target's replicas: who they are (:mod:`~chaosaitrapp.deployment.replicas`), freezing one
(:mod:`~chaosaitrapp.targets.pause`), the split-brain faults (:mod:`~chaosaitrapp.replicas.actions`) and
probes (:mod:`~chaosaitrapp.replicas.probes`)."""
