"""The AITRAPP API: readiness, health, state, pause/resume/abort."""
