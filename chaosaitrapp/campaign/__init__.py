"""Campaigns: seeded schedules of overlapping faults from several families, run as one Chaos Toolkit experiment
over one order history, replayed from their schedule file and shrunk when they fail."""
