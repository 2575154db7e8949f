"""dms: the smart customer-archive system of a power utility."""

__version__ = "0.1.0"
