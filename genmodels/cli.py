"""``plaza generate "PROMPT" --out FILE.glb [--seed N] [--model parts|flow]``: write a GLB, print one JSON line.

The part generator is the default (what the server runs); the flow model with ``--model flow``
(or any flow option). An object the generator does not know gets its closest asset and the
honest line on stderr ("I can't make … yet; closest: …"); ``--refuse-unknown`` makes nothing.

The JSON line has prompt, seed, seconds, triangles, device (plus key, cached, notes).
Exit codes: 0 ok, 2 bad prompt/arguments, 1 generation failure; errors go to stderr.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="plaza generate", description="Generate a 3D asset (GLB) from a short text prompt."
    )
    ap.add_argument("prompt", help='e.g. "a tall pine tree"')
    ap.add_argument("--out", type=Path, required=True, help="output .glb path")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument(
        "--model",
        choices=("parts", "flow"),
        default=None,
        help="parts (default: the part generator the server runs) or flow (the SDF flow model; "
        "implied by --checkpoint, --steps, --guidance, --baseline)",
    )
    ap.add_argument("--refuse-unknown", action="store_true", help="parts: make nothing for an unknown object")
    ap.add_argument("--checkpoint", type=Path, default=None, help="flow: default genmodels/checkpoints/cpu.pt")
    ap.add_argument("--steps", type=int, default=None, help="sampling steps (default from the checkpoint)")
    ap.add_argument("--guidance", type=float, default=None, help="classifier-free guidance scale")
    ap.add_argument("--baseline", action="store_true", help="use the retrieval baseline instead of the model")
    ap.add_argument("--no-cache", action="store_true", help="always regenerate")
    ap.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto", help="auto: the GPU when there is one")
    args = ap.parse_args(argv)

    # checked before the model loads: a bad prompt or seed is answered at once, not after ~15 s
    from genmodels.prompts import PromptError, check_prompt, check_seed

    try:
        check_prompt(args.prompt)
        check_seed(args.seed)
    except PromptError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    flow = args.model == "flow" or (
        args.model is None and (args.checkpoint or args.baseline or args.steps is not None or args.guidance is not None)
    )
    from genmodels.result import Asset, GenerationError

    try:
        asset: Asset
        if flow:
            # imported here so `--help` and argument errors stay instant (torch import is slow)
            from genmodels.api import Generator

            gen = Generator(args.checkpoint, backend="baseline" if args.baseline else "flow", steps=args.steps,
                            guidance=args.guidance, use_cache=not args.no_cache, device=args.device)  # fmt: skip
            asset = gen.generate(args.prompt, args.seed)
        else:
            from genmodels.partgen import PartGenerator

            unknown = "refuse" if args.refuse_unknown else None
            asset = PartGenerator(use_cache=not args.no_cache, unknown=unknown).generate(args.prompt, args.seed)
            if asset.message:
                print(asset.message, file=sys.stderr)
    except PromptError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except (GenerationError, FileNotFoundError, RuntimeError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_bytes(asset.glb)
    print(json.dumps(asset.summary(args.prompt, args.seed)))
    return 0

if __name__ == "__main__":
    raise SystemExit(main())
