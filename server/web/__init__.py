"""The aiohttp edge around the pure core: ``edge`` (WebSocket frames), ``routes/`` (HTTP, one
module per domain), ``background`` (duties on the periodic helper in ``duties``), ``app``
(composition)."""

from server.web.app import create_app

__all__ = ["create_app"]
