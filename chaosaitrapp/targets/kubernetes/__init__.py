"""The Kubernetes target kind (``k8s:NAMESPACE/KIND/NAME``): faults carried out through the cluster's own API,
with chaostoolkit-kubernetes' activities where they exist (:mod:`.api`, :mod:`.workload`, :mod:`.guard`)."""
