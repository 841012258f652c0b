"""The plugin API and the built-in plugins."""
