"""Who hears whom: the audible set of every listener, from head positions alone (pure, numpy).

Each listener receives at most ``k`` voices: the nearest speakers within ``radius`` (spatial
mode) or the nearest ``cap`` speakers in the instance at any distance (flat mode), never
itself, plus every stage speaker (heard everywhere in the world, overflow instances too).
This is what keeps a listener's downstream bounded by K + stage however many people talk
(Hubs' every-client-receives-every-voice is what caps its rooms at ~25, hubs#1940).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

SPATIAL = "spatial"
FLAT = "flat"


@dataclass(frozen=True, slots=True)
class Heard:
    """One voice in a listener's audible set."""

    speaker: int  # the speaker's id (entity id in Plaza)
    distance_m: float  # head to head; 0.0 for a stage voice in another instance
    stage: bool  # a stage voice: fixed volume, not panned


def nearest(
    listener_pos: np.ndarray,
    listener_ids: np.ndarray,
    speaker_pos: np.ndarray,
    speaker_ids: np.ndarray,
    k: int,
    radius: float = float("inf"),
) -> list[tuple[np.ndarray, np.ndarray]]:
    """For each listener: (indices into the speakers, distances), nearest first, at most ``k``
    of them, within ``radius``, never the listener itself (same id).

    listener_pos: (L, 3); speaker_pos: (S, 3); ids: (L,), (S,) integers.
    """
    n_l, n_s = len(listener_pos), len(speaker_pos)
    empty = (np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float64))
    if n_l == 0:
        return []
    if n_s == 0 or k <= 0:
        return [empty] * n_l
    d = listener_pos[:, None, :] - speaker_pos[None, :, :]
    dist = np.sqrt(np.einsum("lsx,lsx->ls", d, d))
    dist[listener_ids[:, None] == speaker_ids[None, :]] = np.inf  # nobody hears their own voice
    dist[dist > radius] = np.inf
    kk = min(k, n_s)
    part = np.argpartition(dist, kk - 1, axis=1)[:, :kk] if kk < n_s else np.broadcast_to(np.arange(n_s), (n_l, n_s))
    part_d = np.take_along_axis(dist, part, axis=1)
    order = np.argsort(part_d, axis=1, kind="stable")
    idx = np.take_along_axis(part, order, axis=1)
    dd = np.take_along_axis(part_d, order, axis=1)
    out = []
    for row_i, row_d in zip(idx, dd, strict=True):
        keep = np.isfinite(row_d)
        out.append((row_i[keep].astype(np.int64), row_d[keep]))
    return out


def audible_sets(
    listener_pos: np.ndarray,
    listener_ids: np.ndarray,
    speaker_pos: np.ndarray,
    speaker_ids: np.ndarray,
    *,
    mode: str = SPATIAL,
    k: int = 8,
    radius: float = 15.0,
    flat_cap: int = 24,
    stage_here: frozenset[int] = frozenset(),
    stage_elsewhere: tuple[int, ...] = (),
) -> list[list[Heard]]:
    """The audible set of every listener of one instance.

    ``stage_here``: ids of speakers in this instance who are on the stage (always heard, on
    top of ``k``); ``stage_elsewhere``: stage speakers standing in another instance of the
    world (heard here too). Returns one list per listener, stage voices first.
    """
    if mode == FLAT:
        kk, rr = flat_cap, float("inf")
    else:
        kk, rr = k, radius
    stage_mask = np.array([int(i) in stage_here for i in speaker_ids], dtype=bool)
    crowd = ~stage_mask
    crowd_idx = np.nonzero(crowd)[0]
    near = nearest(listener_pos, listener_ids, speaker_pos[crowd], speaker_ids[crowd], kk, rr)
    stage_idx = np.nonzero(stage_mask)[0]
    out: list[list[Heard]] = []
    for li in range(len(listener_pos)):
        me = int(listener_ids[li])
        heard: list[Heard] = []
        for si in stage_idx:
            sid = int(speaker_ids[si])
            if sid != me:
                heard.append(Heard(sid, float(np.linalg.norm(listener_pos[li] - speaker_pos[si])), True))
        heard.extend(Heard(x, 0.0, True) for x in stage_elsewhere if x != me)
        idx, dist = near[li]
        heard.extend(Heard(int(speaker_ids[crowd_idx[i]]), float(d), False) for i, d in zip(idx, dist, strict=True))
        out.append(heard)
    return out
