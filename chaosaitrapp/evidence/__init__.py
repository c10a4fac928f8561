"""Recording a drill: the in-process run record, the timeline sampler, the seed-format log."""
