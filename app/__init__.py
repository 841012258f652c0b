"""Hookline's application core: settings, storage, projects, services. No Qt widgets here."""

__version__ = "0.1.0"
