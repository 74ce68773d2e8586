"""synap: the Python SDK for the Synap memory API."""

__version__ = "0.1.0"
