"""Importers: move an existing blog into qsite (``qsite import``)."""
