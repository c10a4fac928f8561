"""The lab trader: an AITRAPP-compatible FastAPI service (``python -m chaosaitrapp.lab.trader``).

Built by :func:`chaosaitrapp.lab.trader.app.create_app` from one
:class:`~chaosaitrapp.lab.trader.settings.TraderSettings`, read from the environment in the factory.
"""
