"""One module of HTTP routes per domain; ``ALL`` is what the app mounts and OpenAPI documents."""

from __future__ import annotations

from server.web.api import ApiRoutes
from server.web.routes import assets, hosting, privacy, recommendations, system, worlds

ALL: tuple[ApiRoutes, ...] = (
    system.routes,
    worlds.routes,
    hosting.routes,
    recommendations.routes,
    assets.routes,
    privacy.routes,
)
