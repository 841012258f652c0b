"""``python -m server``: the same as ``hookline serve``."""

from server.cli import serve

if __name__ == "__main__":
    serve()
