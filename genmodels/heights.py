"""Heights in prompts: how captions write them, how prompts are read, and what the model sees.

A world author asks for "a 1.2 m tall pine tree" and expects 1.2 m, not "some medium tree".
Sentence embeddings do not order numbers, so a stated height also reaches the model as a
few smooth numeric features next to the text embedding; a smooth input is what lets the
model produce heights no training shape had (the held-out band of the test split).
Asset units are metres (the grid spans 2 m, objects stand on its floor), so only heights
up to ``MAX_HEIGHT`` fit; larger ones are drawn at the maximum and the prompt gets a note.

numpy only: imported by the corpus, the prompt checks and the text conditioning.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

MIN_HEIGHT = 0.2  # metres: below this a 32^3 grid (6 cm voxels) draws nothing recognisable
MAX_HEIGHT = 1.8  # metres: from the grid floor to its top, minus a margin
HEIGHT_FEATURES = 8  # width of height_features(); part of a checkpoint's condition width
UNIT_WORDS = ("m", "cm", "metre", "metres", "meter", "meters", "centimetres", "centimeters", "ft", "feet", "foot")
HEIGHT_WORDS = ("tall", "high")

_UNIT_SCALE = {"cm": 0.01, "centimetre": 0.01, "centimeter": 0.01, "ft": 0.3048, "feet": 0.3048, "foot": 0.3048}
_HEIGHT_RE = re.compile(
    r"(?<![\d.])(\d+(?:\.\d+)?)\s*(centimet(?:re|er)s?|cm|met(?:re|er)s?|m|ft|feet|foot)(?![a-z])", re.IGNORECASE
)
_CENTRE, _SPAN = 1.0, 0.8  # maps the usable range to about [-1, 1] for the features
_FREQS = np.array([1.0, 2.0, 3.0]) * np.pi / 2


def format_height(h: float, rng: np.random.Generator) -> str:
    """How captions state a height: "1.25 m", "125 cm" or "1.3 metres" (varied on purpose)."""
    style = int(rng.integers(4))
    if style == 0:
        return f"{round(h * 100)} cm"
    if style == 1:
        return f"{h:.1f} metres"
    return f"{h:.2f} m"


def parse_height(text: str) -> float | None:
    """First "<number> <unit>" in the text, in metres; None when the text states no height."""
    m = _HEIGHT_RE.search(text)
    if m is None:
        return None
    unit = m.group(2).lower().rstrip("s")
    scale = next((v for k, v in _UNIT_SCALE.items() if unit.startswith(k)), 1.0)
    return float(m.group(1)) * scale


def clamp_height(h: float) -> float:
    return float(min(max(h, MIN_HEIGHT), MAX_HEIGHT))


def height_features(texts: list[str]) -> np.ndarray:
    """(N, HEIGHT_FEATURES): zeros when no height is stated, else [1, x, sin/cos of x at 3 scales]."""
    out = np.zeros((len(texts), HEIGHT_FEATURES), np.float32)
    for i, t in enumerate(texts):
        h = parse_height(t)
        if h is None:
            continue
        x = (clamp_height(h) - _CENTRE) / _SPAN
        out[i] = np.concatenate([[1.0, x], np.sin(_FREQS * x), np.cos(_FREQS * x)])
    return out


# ----- stated sizes, for scaling the finished asset ------------------------------------------
# The flow model can only draw 0.2-1.8 m, but any asset can be scaled after meshing: a stated
# size from SIZE_MIN to SIZE_MAX is honoured exactly by a uniform scale of the final mesh.
SIZE_MIN = 0.1
SIZE_MAX = 5.0
_SIZE_UNITS = {"cm": 0.01, "centimetre": 0.01, "centimeter": 0.01, "ft": 0.3048, "feet": 0.3048,
               "foot": 0.3048, "inch": 0.0254, "in": 0.0254, "m": 1.0, "metre": 1.0, "meter": 1.0}  # fmt: skip
_SIZE_RE = re.compile(
    r"(?<![\d.])(\d+(?:\.\d+)?)\s*-?\s*"
    r"(centimet(?:re|er)s?|cm|met(?:re|er)s?|m|ft|feet|foot|inch(?:es)?|in(?=\s*-?\s*(?:tall|high|long|wide|across)))"
    r"(?![a-z])(?:\s*-?\s*(tall|high|long|wide|across|deep|in diameter))?",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class StatedSize:
    metres: float  # as written, not clamped
    axis: str  # "height" (tall/high), "length" (long/wide/across/deep: the largest horizontal extent), "any"

    @property
    def clamped(self) -> float:
        return float(min(max(self.metres, SIZE_MIN), SIZE_MAX))


def parse_size(text: str) -> StatedSize | None:
    """First "<number> <unit> [tall|long|...]" in the text (cm, m, ft, in); None when none is stated."""
    m = _SIZE_RE.search(text)
    if m is None:
        return None
    unit = m.group(2).lower()
    unit = {"inches": "inch", "feet": "feet"}.get(unit, unit.rstrip("s") if unit.startswith(("cent", "met")) else unit)
    scale = _SIZE_UNITS.get(unit, 1.0)
    word = (m.group(3) or "").lower()
    axis = "height" if word in ("tall", "high") else "length" if word else "any"
    return StatedSize(float(m.group(1)) * scale, axis)


def size_scale(extents: tuple[float, float, float], size: StatedSize) -> float:
    """Uniform factor that gives a mesh with these (x, y, z) extents the stated (clamped) size."""
    x, y, z = (max(float(e), 1e-9) for e in extents)
    current = y if size.axis == "height" else max(x, z) if size.axis == "length" else max(x, y, z)
    return size.clamped / current
