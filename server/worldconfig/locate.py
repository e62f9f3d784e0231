"""Map field paths (``objects[3].material.color``) to line/column in TOML text.

``tomllib`` gives no positions, and we want every error to point at the exact
spot in the author's file. Rather than pulling in a second TOML library, this is
a small scanner that walks text *already accepted by tomllib* (so it may assume
the syntax is valid) and records where each key and each value starts.

Paths are tuples of ``str`` (table keys) and ``int`` (array indices), the same
shape as pydantic's error ``loc``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

Path = tuple[str | int, ...]

_BARE = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")


@dataclass
class Pos:
    line: int  # 1-based
    col: int  # 1-based


@dataclass
class SourceMap:
    """Positions of keys and values, keyed by path."""

    keys: dict[Path, Pos] = field(default_factory=dict)
    values: dict[Path, Pos] = field(default_factory=dict)

    def locate(self, path: Path, prefer_value: bool = True) -> Pos:
        """Best position for ``path``; falls back to the longest known prefix.

        A missing field has no position of its own, so it is reported where its
        parent table starts; that is where the author has to add it.
        """
        p = tuple(path)
        while p:
            first, second = (self.values, self.keys) if prefer_value else (self.keys, self.values)
            if p in first:
                return first[p]
            if p in second:
                return second[p]
            p = p[:-1]
        return Pos(1, 1)


class _Scanner:
    def __init__(self, text: str) -> None:
        self.s = text
        self.i = 0
        self.n = len(text)
        # Line start offsets so that offset -> (line, col) is a bisect away.
        self.line_starts = [0]
        for k, ch in enumerate(text):
            if ch == "\n":
                self.line_starts.append(k + 1)
        self.map = SourceMap()
        # Number of elements seen so far per array-of-tables path.
        self.aot_count: dict[Path, int] = {}

    def pos(self, offset: int) -> Pos:
        import bisect

        ln = bisect.bisect_right(self.line_starts, offset) - 1
        return Pos(ln + 1, offset - self.line_starts[ln] + 1)

    # -- low level ---------------------------------------------------------
    def peek(self, k: int = 0) -> str:
        j = self.i + k
        return self.s[j] if j < self.n else ""

    def skip_ws(self) -> None:
        while self.i < self.n and self.s[self.i] in " \t":
            self.i += 1

    def skip_ws_nl_comments(self) -> None:
        while self.i < self.n:
            ch = self.s[self.i]
            if ch in " \t\r\n":
                self.i += 1
            elif ch == "#":
                self.skip_comment()
            else:
                break

    def skip_comment(self) -> None:
        while self.i < self.n and self.s[self.i] != "\n":
            self.i += 1

    def read_string(self) -> str:
        """Read any of the four TOML string forms; return the (rough) content."""
        s = self.s
        if s.startswith('"""', self.i) or s.startswith("'''", self.i):
            q = s[self.i : self.i + 3]
            start = self.i + 3
            j = start
            while True:
                if q == '"""' and s[j] == "\\":
                    j += 2
                    continue
                if s.startswith(q, j):
                    # Up to two extra quotes may belong to the content.
                    while s.startswith(q, j + 1):
                        j += 1
                    break
                j += 1
            self.i = j + 3
            return s[start:j]
        q = s[self.i]
        j = self.i + 1
        out = []
        while s[j] != q:
            if q == '"' and s[j] == "\\":
                nxt = s[j + 1]
                simple = {
                    "n": "\n",
                    "t": "\t",
                    '"': '"',
                    "\\": "\\",
                    "b": "\b",
                    "f": "\f",
                    "r": "\r",
                }
                if nxt in simple:
                    out.append(simple[nxt])
                    j += 2
                    continue
                if nxt in "uU":
                    width = 4 if nxt == "u" else 8
                    out.append(chr(int(s[j + 2 : j + 2 + width], 16)))
                    j += 2 + width
                    continue
                j += 2
                continue
            out.append(s[j])
            j += 1
        self.i = j + 1
        return "".join(out)

    def read_key(self) -> list[tuple[str, int]]:
        """Dotted key -> [(part, offset_of_part)]."""
        parts: list[tuple[str, int]] = []
        while True:
            self.skip_ws()
            start = self.i
            if self.peek() in "\"'":
                parts.append((self.read_string(), start))
            else:
                j = self.i
                while j < self.n and self.s[j] in _BARE:
                    j += 1
                parts.append((self.s[self.i : j], start))
                self.i = j
            self.skip_ws()
            if self.peek() == ".":
                self.i += 1
                continue
            return parts

    # -- values ------------------------------------------------------------
    def read_value(self, path: Path) -> None:
        self.map.values.setdefault(path, self.pos(self.i))
        ch = self.peek()
        if ch in "\"'":
            self.read_string()
        elif ch == "[":
            self.i += 1
            idx = 0
            while True:
                self.skip_ws_nl_comments()
                if self.peek() == "]":
                    self.i += 1
                    return
                self.read_value((*path, idx))
                idx += 1
                self.skip_ws_nl_comments()
                if self.peek() == ",":
                    self.i += 1
        elif ch == "{":
            self.i += 1
            while True:
                self.skip_ws()
                if self.peek() == "}":
                    self.i += 1
                    return
                self.read_keyval(path)
                self.skip_ws()
                if self.peek() == ",":
                    self.i += 1
        else:
            # Numbers, booleans, dates: run to the next delimiter.  Dates may
            # contain a single space ("1979-05-27 07:32:00"), which is why the
            # space case looks ahead for a digit.
            while self.i < self.n:
                c = self.s[self.i]
                if c in ",]}\n#\r\t":
                    break
                if c == " ":
                    if self.peek(1).isdigit() and self.s[self.i - 1].isdigit():
                        self.i += 1
                        continue
                    break
                self.i += 1

    def read_keyval(self, table: Path) -> None:
        parts = self.read_key()
        path = table
        for name, off in parts:
            path = (*path, name)
            self.map.keys.setdefault(path, self.pos(off))
        self.skip_ws()
        assert self.peek() == "=", "tomllib accepted text the scanner cannot follow"
        self.i += 1
        self.skip_ws()
        self.read_value(path)

    # -- document ----------------------------------------------------------
    def resolve_header(self, parts: list[tuple[str, int]], is_aot: bool) -> Path:
        """Turn a header's key parts into a concrete path with array indices."""
        path: Path = ()
        for k, (name, off) in enumerate(parts):
            path = (*path, name)
            last = k == len(parts) - 1
            if last and is_aot:
                idx = self.aot_count.get(path, 0)
                self.aot_count[path] = idx + 1
                self.map.keys.setdefault(path, self.pos(off))
                path = (*path, idx)
                self.map.keys[path] = self.pos(off)
            else:
                self.map.keys.setdefault(path, self.pos(off))
                if path in self.aot_count:  # walk into the latest element
                    path = (*path, self.aot_count[path] - 1)
        return path

    def run(self) -> SourceMap:
        table: Path = ()
        while True:
            self.skip_ws_nl_comments()
            if self.i >= self.n:
                return self.map
            if self.peek() == "[":
                header_start = self.i
                is_aot = self.peek(1) == "["
                self.i += 2 if is_aot else 1
                parts = self.read_key()
                self.i += 2 if is_aot else 1
                table = self.resolve_header(parts, is_aot)
                self.map.values.setdefault(table, self.pos(header_start))
            else:
                self.read_keyval(table)


def build_source_map(text: str) -> SourceMap:
    """Scan TOML text (which must already parse with tomllib)."""
    try:
        return _Scanner(text).run()
    except (IndexError, AssertionError, ValueError):
        # The scanner is best effort; never let it hide the real error.
        return SourceMap()
