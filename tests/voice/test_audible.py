"""The audible set, pure: nearest K within the radius, never oneself, stage on top; flat mode."""

from __future__ import annotations

import numpy as np

from server.voice.audible import FLAT, audible_sets, nearest


def pos(*xz: tuple[float, float]) -> np.ndarray:
    return np.array([[x, 1.6, z] for x, z in xz], dtype=np.float64).reshape(-1, 3)


def ids(*v: int) -> np.ndarray:
    return np.array(v, dtype=np.int64)


def test_nearest_k_within_radius_nearest_first_never_self() -> None:
    speakers = pos((1, 0), (5, 0), (2, 0), (14, 0), (16, 0), (0, 0))
    sid = ids(10, 11, 12, 13, 14, 1)
    (idx, d), = nearest(pos((0, 0)), ids(1), speakers, sid, k=3, radius=15)  # fmt: skip
    assert sid[idx].tolist() == [10, 12, 11] and d.tolist() == [1.0, 2.0, 5.0]
    (idx, _), = nearest(pos((0, 0)), ids(1), speakers, sid, k=10, radius=15)  # fmt: skip
    assert sid[idx].tolist() == [10, 12, 11, 13]  # 16 m is outside; itself (id 1, 0 m) never


def test_a_listener_of_200_talkers_receives_at_most_k_plus_stage() -> None:
    rng = np.random.default_rng(7)
    xz = rng.uniform(-10, 10, size=(200, 2))
    p = pos(*map(tuple, xz))
    everyone = ids(*range(1, 201))
    sets = audible_sets(p, everyone, p, everyone, k=8, radius=15, stage_here=frozenset({5}), stage_elsewhere=(999,))
    assert all(len(s) <= 8 + 2 for s in sets)
    assert all(any(h.speaker == 999 and h.stage for h in s) for s in sets)
    assert all(any(h.speaker == 5 and h.stage for h in s) for i, s in enumerate(sets) if everyone[i] != 5)
    # Against brute force: the non-stage part is exactly the 8 nearest others (stage excluded).
    for i in (0, 17, 123):
        d = np.linalg.norm(p - p[i], axis=1)
        d[i] = np.inf
        d[4] = np.inf  # id 5 is on the stage
        want = set((np.argsort(d, kind="stable")[:8] + 1).tolist())
        assert {h.speaker for h in sets[i] if not h.stage} == want


def test_flat_mode_hears_everyone_up_to_the_cap_at_any_distance() -> None:
    p = pos((0, 0), (50, 0), (90, 0), (-80, 0))
    who = ids(1, 2, 3, 4)
    sets = audible_sets(p, who, p, who, mode=FLAT, k=1, radius=1, flat_cap=2)
    assert [h.speaker for h in sets[0]] == [2, 4]  # nearest two, radius and k ignored
    sets = audible_sets(p, who, p, who, mode=FLAT, flat_cap=24)
    assert [len(s) for s in sets] == [3, 3, 3, 3]


def test_nobody_speaking_or_nobody_listening() -> None:
    assert audible_sets(pos(), ids(), pos((0, 0)), ids(1)) == []
    assert audible_sets(pos((0, 0)), ids(1), pos(), ids()) == [[]]
    assert audible_sets(pos((0, 0)), ids(1), pos(), ids(), stage_elsewhere=(7,))[0][0].speaker == 7
