"""Source positions and the one error type every user mistake becomes."""

from __future__ import annotations

import gc
import re
from bisect import bisect_right
from contextlib import contextmanager
from dataclasses import dataclass, field


def printable(text: str) -> str:
    """Control characters written as escapes (\\n, \\x1b), so that user text shown in a
    message or a table can neither start a new line (a forged CI command) nor drive the
    terminal."""
    if text.isprintable():
        return text
    import unicodedata

    return "".join(ascii(ch)[1:-1] if unicodedata.category(ch)[0] == "C" else ch for ch in text)


_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def xml_text(text: str) -> str:
    """Text that XML 1.0 can hold: other characters are written as \\xNN or \\uNNNN."""
    return _NOT_XML.sub(lambda m: ascii(m[0])[1:-1], text)


SNIPPET = 120  # longest source text shown for one node
EXCERPT = 160  # longest line shown under an error


@dataclass(eq=False)
class Source:
    """A piece of user text (a file or one `--at` value) that positions point into."""

    name: str
    text: str
    _line_starts: list[int] | None = field(default=None, repr=False)

    def line_starts(self) -> list[int]:
        """Offsets at which each line begins (computed once, on demand)."""
        if self._line_starts is None and self.text.isascii() and len(self.text) > 100_000:
            import numpy as np  # a large file: one vectorized search

            ends = np.flatnonzero(np.frombuffer(self.text.encode("ascii"), dtype=np.uint8) == 10)
            self._line_starts = [0, *(ends + 1).tolist()]
        if self._line_starts is None:
            starts = [0]
            text = self.text
            pos = text.find("\n")
            while pos >= 0:
                starts.append(pos + 1)
                pos = text.find("\n", pos + 1)
            self._line_starts = starts
        return self._line_starts

    def positions(self, offsets):
        """1-based lines and columns of an array of offsets, found with one search."""
        import numpy as np

        line_starts = np.asarray(self.line_starts(), dtype=np.int64)
        lines = np.searchsorted(line_starts, offsets, side="right")
        return lines, offsets - line_starts[np.maximum(lines - 1, 0)] + 1

    def locate(self, offset: int) -> tuple[int, int]:
        """Return the 1-based (line, column) of a character offset."""
        starts = self.line_starts()
        line = bisect_right(starts, offset)
        return line, offset - starts[line - 1] + 1

    def line_text(self, line: int) -> str:
        """Return line `line` (1-based) without its line ending."""
        starts = self.line_starts()
        end = starts[line] - 1 if line < len(starts) else len(self.text)
        return self.text[starts[line - 1] : end].rstrip("\r")

    def where(self, offset: int) -> str:
        """Return `name:line:col` for an offset (the name with control characters escaped)."""
        line, col = self.locate(offset)
        return f"{self.shown_name}:{line}:{col}"

    @property
    def shown_name(self) -> str:
        """The name as messages show it (control characters escaped), computed once."""
        shown = self.__dict__.get("_shown")
        if shown is None:
            shown = self.__dict__["_shown"] = printable(self.name)
        return shown

    def snippet(self, start: int, end: int) -> str:
        """Return the source text of a span, with runs of whitespace folded; a long span is
        its start and end around " … ", so the cost and size stay bounded."""
        if end - start <= SNIPPET:
            text = self.text[start:end]
            if text.isprintable() and "  " not in text and text[:1] != " " != text[-1:]:
                return text  # no whitespace to fold: every other kind is unprintable
            return " ".join(text.split())
        head = " ".join(self.text[start : start + SNIPPET // 2].split())
        tail = " ".join(self.text[end - SNIPPET // 3 : end].split())
        return f"{head} … {tail}"


@dataclass(frozen=True)
class Span:
    """A half-open character range [start, end) inside a Source."""

    source: Source
    start: int
    end: int
    via: Span | None = None  # inside a function's body: the call site it was inlined at
    function: str | None = None  # ... and the function's name

    def where(self) -> str:
        """Return `name:line:col` of the start of the span."""
        return self.source.where(self.start)

    def calls(self) -> str:
        """` (in f, called at file:line:col)` for each call the span sits in, innermost
        first; empty outside functions."""
        parts, span = [], self
        while span.via is not None:
            parts.append(f" (in {span.function}, called at {span.via.where()})")
            span = span.via
        return "".join(parts)

    def text(self) -> str:
        """Return the spanned source text."""
        return self.source.snippet(self.start, self.end)

    def excerpt(self) -> str:
        """Return the span's first line with a caret line under the span.

        A long line is cut to a window around the caret (marked with …), and a long span's
        caret run is capped, so a message stays a few lines whatever the input.
        """
        line, col = self.source.locate(self.start)
        text = self.source.line_text(line)
        end_line, end_col = self.source.locate(max(self.end, self.start + 1) - 1)
        width = end_col - col + 1 if end_line == line else len(text) - col + 1
        width = max(1, min(width, len(text) - col + 1)) if text else 1
        if len(text) > EXCERPT:
            left = max(0, col - 1 - EXCERPT // 3)
            right = min(len(text), left + EXCERPT)
            width = min(width, right - (col - 1))
            prefix = "…" if left else ""
            text = prefix + text[left:right] + ("…" if right < len(text) else "")
            col = col - left + len(prefix)
        pad = "".join("\t" if ch == "\t" else " " for ch in text[: col - 1])
        gutter = f"{line:>5} | "
        return f"{gutter}{text}\n{' ' * (len(gutter) - 2)}| {pad}{'^' * width}"


class AgradError(Exception):
    """A mistake in user input: rendered as one message, exit status 2."""

    exit_code = 2

    def __init__(self, message: str, span: Span | None = None, hint: str | None = None):
        super().__init__(message)
        self.message = message
        self.span = span
        self.hint = hint

    def render(self) -> str:
        """Format as `file:line:col: error: ...`, the line with a caret, and a hint."""
        head = f"error: {printable(self.message)}"
        parts = [f"{self.span.where()}: {head}" if self.span else head]
        if self.span is not None:
            parts.append(self.span.excerpt())
            call = self.span
            while call.via is not None:
                parts.append(f"note: in {call.function}, called at {call.via.where()}")
                parts.append(call.via.excerpt())
                call = call.via
        if self.hint:
            parts.append(f"hint: {printable(self.hint)}")
        return "\n".join(parts)


class CheckFailed(AgradError):
    """A check did not pass (a mismatch, or non-finite values under --strict): exit 1."""

    exit_code = 1


@contextmanager
def paused_gc():
    """Pause the cyclic garbage collector while building or walking a large graph.

    Millions of small acyclic objects otherwise trigger repeated full collections, which
    makes large inputs cost superlinear time.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def suggest(word: str, choices: list[str] | tuple[str, ...]) -> str | None:
    """Return "did you mean 'x'?" for the closest choice, or None."""
    import difflib

    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f"did you mean '{close[0]}'?" if close else None
