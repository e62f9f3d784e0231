"""Natural-language commands: "@plaza take me to the gallery" understood and acted on.

An intent classifier (MiniLM sentence embeddings + a small MLP trained by
``python -m server.commands.train`` on utterances generated from our templates) and slot
extraction matched against the live world context (world names, people present, events,
places). ``plan()`` turns a parse into an answer or an action message that the hub applies
through the same code path as the explicit message (TRAVEL, MODERATE, ``/generate``), so
every permission check is the same. docs/commands.md describes it.
"""

from server.commands.core import (
    ACTION_INTENTS,
    INTENTS,
    MODERATION_INTENTS,
    CommandContext,
    EventRef,
    Parse,
    PersonRef,
    PlaceRef,
    WorldRef,
    extract_slots,
    normalise,
    strip_wake,
)
from server.commands.model import CommandModel, load_model
from server.commands.plan import Plan, plan

__all__ = [
    "ACTION_INTENTS",
    "INTENTS",
    "MODERATION_INTENTS",
    "CommandContext",
    "CommandModel",
    "EventRef",
    "Parse",
    "PersonRef",
    "PlaceRef",
    "Plan",
    "WorldRef",
    "extract_slots",
    "load_model",
    "normalise",
    "plan",
    "strip_wake",
]
