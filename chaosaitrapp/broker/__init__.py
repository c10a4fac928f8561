"""The broker: faults between a trader and its Kite-compatible broker (through the fault proxy,
:mod:`chaosaitrapp.broker.proxy`), their actions and probes, and the order history they record."""
