"""Former home of the CRI reference's catalogue, kept so existing imports work; it lives in cri/images.py."""

from conformance.reference.cri.images import CatalogueImage, catalogue

__all__ = ["CatalogueImage", "catalogue"]
