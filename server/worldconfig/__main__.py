"""``python -m server.worldconfig validate PATH... | schema``: an alias of ``plaza validate`` /
``plaza schema``, for a checkout without the ``plaza`` script. It runs the same code
(server/cli/validate.py, server/cli/schema.py), so output and exit codes are identical.
"""

from __future__ import annotations

import sys


def main(argv: list[str]) -> int:
    if argv[:1] in (["validate"], ["schema"]):
        from server.cli import main as plaza

        return plaza(argv)
    print(
        "usage: python -m server.worldconfig validate PATH... | schema  (the same as plaza validate | schema)",
        file=sys.stderr,
    )
    return 2


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
