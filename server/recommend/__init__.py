"""Plaza recommender core: pure objects, no I/O. See docs/recommender.md.

Main entry points: ``PlazaRecommender`` (hybrid model), ``RecommenderService``
(in-memory serving with background retraining), ``simulate`` (synthetic Plaza).
"""

from .content import CachedEncoder, HashingEncoder, MiniLMEncoder, default_encoder
from .hybrid import Context, HybridConfig, PlazaRecommender, Recommendation
from .items import Catalogue, Item, event, space
from .service import RecommenderService
from .signals import (
    RSVP,
    Attendance,
    ChatCount,
    Follow,
    Interaction,
    Like,
    Signals,
    Visit,
    implicit_feedback,
)

__all__ = [
    "RSVP",
    "Attendance",
    "CachedEncoder",
    "Catalogue",
    "ChatCount",
    "Context",
    "Follow",
    "HashingEncoder",
    "HybridConfig",
    "Interaction",
    "Item",
    "Like",
    "MiniLMEncoder",
    "PlazaRecommender",
    "Recommendation",
    "RecommenderService",
    "Signals",
    "Visit",
    "default_encoder",
    "event",
    "implicit_feedback",
    "space",
]
