"""What the drills know of the deployment they act on: its replicas, its lock timing, its database."""
