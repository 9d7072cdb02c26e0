"""Model prices and the built-in model catalog (bundled ``models.json``).

``lookup(kind, model_id)`` gives a ``Price`` (USD per million tokens) or ``None`` when the
model is unknown — unknown is never zero. ``cost(usage, price)`` (from ``spec``) turns
usage into dollars as a ``Decimal``.
"""

from switchboard.pricing.catalog import Catalog, ModelRow, VendorTable, load_catalog, parse_catalog
from switchboard.pricing.lookup import builtin_models, catalog_kinds, find_row, lookup
from switchboard.spec import Price, cost

__all__ = [
    "Catalog", "ModelRow", "Price", "VendorTable", "builtin_models", "catalog_kinds",
    "cost", "find_row", "load_catalog", "lookup", "parse_catalog",
]
