"""World files: format (pydantic models), loading with located errors, live reload.

See docs/worlds.md for the format.
"""

from .errors import ValidationIssue, WorldFileError
from .loader import cross_check, first_overlap, load_world, load_worlds, schema_json, validate_paths
from .models import (
    LOBBY_ID,
    Bounds,
    Environment,
    Event,
    Occurrence,
    Portal,
    ResolvedObject,
    Roles,
    Spawn,
    WorldConfig,
)
from .watch import ObjectsDiff, WorldsDiff, diff_worlds, watch_worlds

__all__ = [
    "LOBBY_ID",
    "Bounds",
    "Environment",
    "Event",
    "ObjectsDiff",
    "Occurrence",
    "Portal",
    "ResolvedObject",
    "Roles",
    "Spawn",
    "ValidationIssue",
    "WorldConfig",
    "WorldFileError",
    "WorldsDiff",
    "cross_check",
    "diff_worlds",
    "first_overlap",
    "load_world",
    "load_worlds",
    "schema_json",
    "validate_paths",
    "watch_worlds",
]
