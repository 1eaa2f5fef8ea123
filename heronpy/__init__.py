"""heronpy: a pure-Python streaming engine with Apache Heron's API."""

__version__ = "0.1.0"
