"""The catalog service, one import for every surface (REST API, CLI, web).

Providers, models, the default model, provider keys, discovery and the formatted model
registry. Every function is one transaction; every admin change writes an audit row and
invalidates the catalog cache. Results are frozen pydantic views, keys masked.
"""

from switchboard.services.discovery import (
    Discovery,
    discover_models,
    import_models,
    test_provider,
)
from switchboard.services.keys import (
    get_key_status,
    remove_provider_key,
    rotate_master_key,
    set_provider_key,
)
from switchboard.services.provider_models import (
    create_model,
    delete_model,
    get_model_by_id,
    get_models_by_provider_id,
    set_default_model,
    update_model,
)
from switchboard.services.providers import (
    UNSET,
    create_provider,
    delete_provider,
    get_provider,
    get_provider_by_id,
    get_providers,
    update_provider,
)
from switchboard.services.registry_source import load_registry
from switchboard.services.registry_view import get_formatted_model_registry
from switchboard.services.seed import seed_catalog

__all__ = [
    "UNSET",
    "create_model",
    "create_provider",
    "delete_model",
    "delete_provider",
    "get_formatted_model_registry",
    "get_key_status",
    "get_model_by_id",
    "get_models_by_provider_id",
    "get_provider",
    "get_provider_by_id",
    "get_providers",
    "Discovery",
    "discover_models",
    "import_models",
    "load_registry",
    "remove_provider_key",
    "rotate_master_key",
    "seed_catalog",
    "set_default_model",
    "set_provider_key",
    "test_provider",
    "update_model",
    "update_provider",
]
