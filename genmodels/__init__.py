"""Text -> 3D asset (GLB) generation for Plaza, trained on our own procedural shape corpus.

Server-facing entry points (see docs/genmodels.md):
    genmodels.api.Generator(checkpoint=None, cache_dir=None).generate(prompt, seed=0) -> Asset
    genmodels.jobs.JobQueue(generate, workers=1, max_pending=32, rate_limit=5, rate_window_s=60, timeout_s=60)
    genmodels.cli.main(argv) -> int          # `plaza generate "PROMPT" --out FILE.glb [--seed N]`
Training: `python -m genmodels.train --config tiny|tiny-pca|cpu|cpu-unet|FILE.json`.
Submodules import torch lazily where it matters: `prompts` and `jobs` stay torch-free.
"""
