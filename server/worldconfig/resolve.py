"""Expand templates and arrays into concrete ``ResolvedObject`` s."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, Literal

from . import mathutil as m
from .models import ObjectSpec, ResolvedObject, TemplateSpec, Visual

if TYPE_CHECKING:
    from .models import WorldConfig

Loc = tuple[str | int, ...]
Problem = tuple[Loc, str]
KINDS: tuple[Literal["shape", "model", "text", "generate"], ...] = ("shape", "model", "text", "generate")
ONE_KIND = "expected exactly one of shape, model, text, generate (or a template)"
# Per-object keys that merge deeply (a template's material plus an override of one colour).
_DEEP = {"material"}


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for k, v in over.items():
        if k in _DEEP and isinstance(out.get(k), dict) and isinstance(v, dict):
            out[k] = {**out[k], **v}
        else:
            out[k] = v
    return out


def _authored(v: Visual) -> dict[str, Any]:
    # Only keys the author wrote take part in overriding; defaults must not
    # clobber a template's values.
    return v.model_dump(exclude_unset=True, exclude={"id", "template", "array", "parts"})


def _build(
    rid: str,
    d: dict[str, Any],
    loc: Loc,
    problems: list[Problem],
    source: str,
    template: str | None,
) -> ResolvedObject | None:
    kinds = [k for k in KINDS if d.get(k) is not None]
    if len(kinds) != 1:
        found = " and ".join(kinds) if kinds else "none of them"
        problems.append(
            (
                loc,
                f"{ONE_KIND}, found {found}",
            )
        )
        return None
    kind = kinds[0]
    if d.get("size") is not None and kind not in ("shape", "generate"):
        problems.append(
            (
                (*loc, "size"),
                f"size is only used by shape and generate objects, not {kind}; use scale",
            )
        )
    if d.get("font_size") is not None and kind != "text":
        problems.append(((*loc, "font_size"), "font_size is only used by text objects"))
    collider = d.get("collider") or "auto"
    if collider == "auto":
        # Cheap, predictable defaults; the simulation only needs rough volumes.
        collider = "none" if kind == "text" else "sphere" if d.get("shape") == "sphere" else "box"
    mat = {k: v for k, v in (d.get("material") or {}).items() if v is not None}
    return ResolvedObject(
        id=rid,
        kind=kind,
        position=tuple(d.get("position") or (0.0, 0.0, 0.0)),
        rotation=m.euler_deg_to_quat(tuple(d.get("rotation") or (0.0, 0.0, 0.0))),
        scale=tuple(d.get("scale") or (1.0, 1.0, 1.0)),
        grabbable=bool(d.get("grabbable") or False),
        collider=collider,
        name=d.get("name"),
        shape=d.get("shape"),
        model=d.get("model"),
        text=d.get("text"),
        font_size=(d.get("font_size") or 0.3) if kind == "text" else None,
        generate=d.get("generate"),
        size=tuple(d.get("size") or (1.0, 1.0, 1.0)),
        material=mat,
        source=source,
        template=template,
    )


def _array_transforms(obj: ObjectSpec) -> list[tuple[str, m.Vec3, m.Quat | None]]:
    """(id suffix, offset, extra rotation applied on top) per copy."""
    a = obj.array
    if a is None:
        return [("", (0.0, 0.0, 0.0), None)]
    out: list[tuple[str, m.Vec3, m.Quat | None]] = []
    if a.kind == "line":
        assert a.count is not None and a.step is not None
        for i in range(a.count):
            out.append((f"#{i}", m.scaled(a.step, i), None))
    elif a.kind == "grid":
        assert a.rows and a.columns and a.step and a.row_step
        for r in range(a.rows):
            for c in range(a.columns):
                off = m.add(m.scaled(a.step, c), m.scaled(a.row_step, r))
                out.append((f"#{r * a.columns + c}", off, None))
    else:
        assert a.count is not None and a.radius is not None
        span = a.end_deg - a.start_deg
        closed = math.isclose(abs(span) % 360.0, 0.0) and span != 0
        div = a.count if closed or a.count == 1 else a.count - 1
        for i in range(a.count):
            theta = a.start_deg + span * i / div
            t = math.radians(theta)
            off = m.add((0.0, 0.0, 0.0), (a.radius * math.sin(t), 0.0, a.radius * math.cos(t)))
            # Forward is -Z (three.js); yaw = theta turns it towards the centre.
            out.append((f"#{i}", off, m.yaw_quat(theta) if a.face_center else None))
    return out


def resolve_objects(world: WorldConfig, problems: list[Problem] | None = None) -> list[tuple[ResolvedObject, Loc]]:
    """Expand every authored object; returns (object, loc of its [[objects]] entry).

    With ``problems`` given, problems are collected there and bad objects are
    skipped; without it, a problem raises ``ValueError`` (the loader has
    already checked the world, so that means a bug).
    """
    strict = problems is None
    probs: list[Problem] = [] if problems is None else problems
    out: list[tuple[ResolvedObject, Loc]] = []
    for idx, obj in enumerate(world.objects):
        loc: Loc = ("objects", idx)
        tpl: TemplateSpec | None = None
        if obj.template is not None:
            tpl = world.templates.get(obj.template)
            if tpl is None:
                from difflib import get_close_matches

                hint = get_close_matches(obj.template, list(world.templates), n=1)
                msg = f'unknown template "{obj.template}"'
                msg += (
                    f'; did you mean "{hint[0]}"?'
                    if hint
                    else (
                        f"; expected one of: {', '.join(sorted(world.templates))}"
                        if world.templates
                        else "; no [templates] defined"
                    )
                )
                probs.append(((*loc, "template"), msg))
                continue
        base = _authored(tpl) if tpl is not None else {}
        root = _merge(base, _authored(obj))
        parts = tpl.parts if tpl is not None else []
        part_ids = {p.id for p in parts}
        for pid in obj.parts:
            if pid not in part_ids:
                from difflib import get_close_matches

                hint = get_close_matches(pid, sorted(part_ids), n=1)
                probs.append(
                    (
                        (*loc, "parts", pid),
                        f'template "{obj.template}" has no part "{pid}"'
                        + (f'; did you mean "{hint[0]}"?' if hint else ""),
                    )
                )
        has_root = any(root.get(k) is not None for k in KINDS)
        if not parts and not has_root:
            probs.append(
                (
                    loc,
                    f"{ONE_KIND}, found none of them",
                )
            )
            continue
        pos = root.get("position") or (0.0, 0.0, 0.0)
        rot = m.euler_deg_to_quat(root.get("rotation") or (0.0, 0.0, 0.0))
        scl = root.get("scale") or (1.0, 1.0, 1.0)
        for suffix, offset, extra in _array_transforms(obj):
            base_id = obj.id + suffix
            q = m.quat_mul(extra, rot) if extra is not None else rot
            p = m.add(pos, offset)
            if has_root:
                r = _build(base_id, root, loc, probs, obj.id, obj.template)
                if r is not None:
                    r.position, r.rotation = p, q
                    out.append((r, loc))
            for part in parts:
                pd = _merge(_authored(part), _authored(obj.parts[part.id]) if part.id in obj.parts else {})
                r = _build(f"{base_id}/{part.id}", pd, loc, probs, obj.id, obj.template)
                if r is None:
                    continue
                # Part transform is relative to the instance: scale, then rotate, then move.
                local = m.mul(tuple(pd.get("position") or (0.0, 0.0, 0.0)), scl)
                r.position = m.add(p, m.quat_rotate(q, local))
                r.rotation = m.quat_mul(q, r.rotation)
                r.scale = m.mul(scl, r.scale)
                out.append((r, loc))
        if strict and probs:
            raise ValueError(f"world {world.id}: {probs}")
    return out
