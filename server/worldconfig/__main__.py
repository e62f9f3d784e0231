"""``python -m server.worldconfig validate PATH... | schema``.

The same as ``plaza validate`` / ``plaza schema``.
"""

from __future__ import annotations

import sys

from . import schema_json, validate_paths


def main(argv: list[str]) -> int:
    if argv[:1] == ["schema"]:
        print(schema_json())
        return 0
    if argv[:1] == ["validate"] and len(argv) > 1:
        code, lines = validate_paths(argv[1:])
        for line in lines:
            print(line)
        return code
    print("usage: python -m server.worldconfig validate PATH... | schema", file=sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
