"""Natural-language commands on the held-out set (bench/commands_eval.py): prints JSON.

intent accuracy, slot precision/recall/F1 over (slot, value) pairs, the wrong-action rate
(an action planned that is not what was asked: other intent or other target) overall and
for moderation, the clarify rate, and parse latency (embedding + classifier + slots, one
utterance at a time as the server does, one CPU thread). Several seeds retrain the model
(``--retrain``) to show the spread; by default the committed checkpoint is measured.

    HF_HUB_OFFLINE=1 .venv/bin/python -m bench.commands [--retrain --seeds 0 1 2]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import torch

from bench.commands_eval import CASES, CONTEXT
from server.commands.core import MODERATION_INTENTS, prompt_key
from server.commands.model import CommandModel, load_model
from server.commands.plan import plan


def _norm(slots: dict[str, str]) -> set[tuple[str, str]]:
    return {(k, prompt_key(v) if k == "prompt" else v) for k, v in slots.items()}


def evaluate(model: CommandModel) -> dict[str, object]:
    correct = tp = fp = fn = 0
    wrong_actions = wrong_mod = mod_actions = clarified = acted = 0
    lat: list[float] = []
    by_intent: dict[str, list[int]] = {}
    errors: list[dict[str, object]] = []
    model.parse("warm up", CONTEXT)
    for text, intent, slots in CASES:
        t0 = time.perf_counter()
        p = model.parse(text, CONTEXT)
        lat.append((time.perf_counter() - t0) * 1000)
        pl = plan(p, CONTEXT)
        ok = p.intent == intent
        correct += ok
        by_intent.setdefault(intent, [0, 0])
        by_intent[intent][0] += ok
        by_intent[intent][1] += 1
        got, want = _norm(p.slots), _norm(slots)
        tp += len(got & want)
        fp += len(got - want)
        fn += len(want - got)
        if pl.kind == "clarify":
            clarified += 1
        if pl.kind in ("act", "guide"):
            acted += 1
            right = p.intent == intent and got == want
            if not right:
                wrong_actions += 1
            if p.intent in MODERATION_INTENTS:
                mod_actions += 1
                if not right:
                    wrong_mod += 1
        if not ok or got != want:
            errors.append({"text": text, "want": [intent, slots], "got": [p.intent, round(p.confidence, 2), p.slots]})
    n = len(CASES)
    prec = tp / (tp + fp) if tp + fp else 1.0
    rec = tp / (tp + fn) if tp + fn else 1.0
    lat.sort()
    return {
        "n": n,
        "intent_accuracy": round(correct / n, 4),
        "slot_precision": round(prec, 4),
        "slot_recall": round(rec, 4),
        "slot_f1": round(2 * prec * rec / (prec + rec) if prec + rec else 0.0, 4),
        "actions": acted,
        "wrong_action_rate": round(wrong_actions / n, 4),
        "moderation_actions": mod_actions,
        "wrong_moderation_action_rate": round(wrong_mod / n, 4),
        "clarify_rate": round(clarified / n, 4),
        "latency_ms": {
            "p50": round(statistics.median(lat), 2),
            "p99": round(lat[min(n - 1, int(0.99 * n))], 2),
            "max": round(lat[-1], 2),
        },
        "per_intent_accuracy": {k: round(a / b, 3) for k, (a, b) in sorted(by_intent.items())},
        "errors": errors,
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--retrain", action="store_true")
    ap.add_argument("--seeds", type=int, nargs="*", default=[0, 1, 2])
    ap.add_argument("--errors", action="store_true", help="list every miss")
    a = ap.parse_args()
    torch.set_num_threads(1)
    runs = []
    if a.retrain:
        from server.commands.train import train

        for seed in a.seeds:
            w, stats = train(seed=seed)
            r = evaluate(CommandModel(w))
            runs.append({"seed": seed, "train": stats, **r})
    else:
        runs.append({"checkpoint": "server/commands/intents.npz", **evaluate(load_model())})
    if not a.errors:
        for r in runs:
            r["errors"] = r["errors"][:15]  # type: ignore[index]
    print(json.dumps({"bench": "commands", "runs": runs}, indent=1))


if __name__ == "__main__":
    main()
