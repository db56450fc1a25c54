"""qsite: a static site generator for a health-care improvement community's learning digest."""

__version__ = "0.1.0"
