"""Alembic migrations of Hookline's database, run in code by :mod:`app.storage.migrate`.

``env.py`` is loaded by Alembic, never imported as a module.
"""
