"""``plaza validate``: what the generator will make of a world file's ``generate = "..."`` prompts.

Warnings, not errors (the file is valid; a stand-in shows until the asset exists): a prompt the
generator would reject, or one it does not know and would answer with the closest thing it can
make, each with a preview command. Reading prompts needs only genmodels' word lists (no torch);
a prompt they miss goes to the trained text model when the [gen] extra is installed.
"""

from __future__ import annotations

import shlex
from typing import Any

from .errors import issue_at


def _verdict(prompt: str) -> str | None:
    try:
        from genmodels.prompts import PromptError, check_prompt
        from genmodels.understand import lexical
    except ImportError:  # a core install: nothing to check against
        return None
    try:
        clean, _ = check_prompt(prompt)
    except PromptError as e:
        return f"the generator will refuse this prompt: {e}"
    m, _ = lexical(clean)
    if m is not None:
        from genmodels.understand import understand

        u = understand(clean, None)
        answer = u.answer(clean)
        return None if answer is None else answer
    try:
        from genmodels.partgen import PartGenerator

        u = PartGenerator(use_cache=False).understand(clean)
    except (ImportError, FileNotFoundError, RuntimeError):
        return f"no known object word in “{clean}”; the generator will make its closest guess"
    return u.answer(clean)


def generate_warnings(cfg: Any) -> list[str]:
    """ "FILE:LINE:COL: path: warning: ..." lines for the world's generate prompts."""
    out: list[str] = []
    smap = cfg._source_map
    where: list[tuple[tuple[str | int, ...], str]] = []
    where += [(("objects", i, "generate"), o.generate) for i, o in enumerate(cfg.objects) if o.generate]
    where += [(("templates", n, "generate"), t.generate) for n, t in cfg.templates.items() if t.generate]
    for loc, prompt in where:
        verdict = _verdict(prompt)
        if verdict is None:
            continue
        preview = f"plaza generate {shlex.quote(prompt)} --out /tmp/preview.glb"
        issue = issue_at(cfg.file, smap, loc, f"warning: {verdict} (preview: {preview})")
        out.append(str(issue))
    return out
