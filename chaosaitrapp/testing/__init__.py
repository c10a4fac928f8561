"""Helpers for the test suite and the benchmarks, not for drills: throwaway labs on free ports
(:mod:`chaosaitrapp.testing.lab`) and synthetic timelines of known shape
(:mod:`chaosaitrapp.testing.synthetic`). Nothing in the extension or the lab imports this package."""
