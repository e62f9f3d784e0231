"""Plaza: a server for shared VR worlds."""

__version__ = "0.1.0"
