"""Bytes to tokens for the whole-file parser (bulk.py), with NumPy over the whole text.

Bytes are classified by comparisons, tokens are runs of word bytes or single symbols, each
line's token kinds are checked against the simple shapes, and equal names are numbered alike
by sorting hashes of their bytes, read eight at a time as integers.
"""

from __future__ import annotations

import numpy as np

BAD, SPACE, NL, LETTER, DIGIT, DOT, OP, LP, RP, EQ, COMMA, LB, RB, COLON = range(14)
CLASS = np.zeros(256, dtype=np.uint8)
CLASS[[ord(" "), ord("\t")]] = SPACE
CLASS[ord("\n")] = NL
CLASS[[ord(c) for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_"]] = LETTER
CLASS[[ord(c) for c in "0123456789"]] = DIGIT
CLASS[ord(".")] = DOT
CLASS[[ord(c) for c in "+-*/^%"]] = OP
CLASS[ord("(")] = LP
CLASS[ord(")")] = RP
CLASS[ord("=")] = EQ
CLASS[ord(",")] = COMMA
CLASS[ord("[")] = LB  # indexing and lists: x[0], W[:, 1], [a, b]
CLASS[ord("]")] = RB
CLASS[ord(":")] = COLON

INT = np.int32  # offsets and indices: half the memory traffic of int64 (texts under 2 GB)
NEWLINE = ord("\n")
IS_KNOWN = CLASS != BAD
MASKS = np.array([(1 << (8 * k)) - 1 for k in range(8)] + [2**64 - 1], dtype=np.uint64)

NAME, NUM = LETTER, DIGIT


def padded(text: str) -> np.ndarray:
    """The ASCII text's bytes followed by 8 zero bytes (for `windows`), in one array."""
    pad = np.zeros(len(text) + 8, dtype=np.uint8)
    pad[: len(text)] = np.frombuffer(text.encode("ascii"), dtype=np.uint8)
    return pad


def blank(b: np.ndarray, text: str) -> np.ndarray:
    """Comments, carriage returns, form and vertical feeds made spaces in place, as the
    tokenizer skips them; offsets stay those of the text."""
    if "#" not in text and not any(c in text for c in "\r\f\v"):
        return b
    for c in "\r\f\v":
        if c in text:
            b[b == ord(c)] = ord(" ")
    if "#" in text:
        starts = np.flatnonzero(b == ord("#"))
        newlines = np.flatnonzero(b == NEWLINE)
        at = np.searchsorted(newlines, starts)
        ends = np.append(newlines, len(b))[at]  # each comment runs to its line's end
        depth = np.zeros(len(b) + 1, dtype=np.int32)
        np.add.at(depth, starts, 1)
        np.add.at(depth, ends, -1)
        b[np.cumsum(depth[:-1]) > 0] = ord(" ")
    return b


def tokens(b: np.ndarray, brackets: bool = False) -> dict | None:
    """Token starts, ends, kinds and line numbers; None if a byte is outside the alphabet.
    `brackets`: the text has `[`, `]` or `:` (single-byte tokens, checked only then)."""
    if not IS_KNOWN[b].all():
        return None
    # Known bytes from "0" up are word bytes but for "=" and "^"; "." is one too. One scratch
    # array takes every comparison: fresh memory costs page faults here.
    tmp = np.empty(len(b), dtype=bool)
    word = np.greater_equal(b, ord("0"))
    word &= np.not_equal(b, ord("="), out=tmp)
    word &= np.not_equal(b, ord("^"), out=tmp)
    for c in "[]:" if brackets else "":
        word &= np.not_equal(b, ord(c), out=tmp)
    word |= np.equal(b, ord("."), out=tmp)
    gap = np.equal(b, ord(" "))
    gap |= np.equal(b, ord("\t"), out=tmp)
    gap |= word
    np.logical_not(gap, out=gap)  # single-byte tokens and newlines
    flag = tmp
    flag[0] = word[0]
    np.greater(word[1:], word[:-1], out=flag[1:])  # a run of word bytes begins
    flag |= gap
    last = np.empty(len(b), dtype=bool)  # ends, found now so the byte masks can go first
    last[-1] = word[-1]
    np.greater(word[:-1], word[1:], out=last[:-1])  # a run of word bytes ends
    gap &= b != NEWLINE
    last |= gap
    del word, gap
    pos = np.flatnonzero(flag).astype(INT)
    del flag, tmp
    ends = np.flatnonzero(last).astype(INT)
    ends += 1
    del last
    nl = b[pos] == NEWLINE
    line = nl.view(np.int8).cumsum(dtype=INT)
    keep = ~nl
    del nl
    starts, line = pos[keep], line[keep]
    del pos, keep
    if not len(starts):
        return None
    kind = CLASS[b[starts]]
    kind[kind == DOT] = NUM
    return _exponents({"start": starts, "end": ends, "kind": kind, "line": line}, b)


def _exponents(toks: dict, b: np.ndarray) -> dict | None:
    """`1e-5` is cut as `1e`, `-`, `5`: make such runs one number token again."""
    start, end, kind = toks["start"], toks["end"], toks["kind"]
    if len(start) < 3:
        return toks
    sign = b[start[1:-1]]
    cand = np.flatnonzero(
        (kind[:-2] == NUM)
        & ((b[end[:-2] - 1] | 0x20) == ord("e"))
        & ((sign == ord("-")) | (sign == ord("+")))
        & (end[:-2] == start[1:-1])
        & (end[1:-1] == start[2:])
        & (kind[2:] == NUM)
    )
    if not len(cand):
        return toks
    if np.isin(cand + 2, cand).any() or np.isin(cand + 1, cand).any():
        return None  # `1e-2e-3`: the line-by-line parser explains
    end = end.copy()
    end[cand] = end[cand + 2]
    keep = np.ones(len(start), dtype=bool)
    keep[cand + 1] = keep[cand + 2] = False
    return {k: v[keep] for k, v in {**toks, "end": end}.items()}


def windows(pad: np.ndarray) -> np.ndarray:
    """The 8 bytes from every offset of the text as one uint64 (zero past the end), over the
    `padded` bytes themselves."""
    return np.ndarray((len(pad) - 8,), dtype="<u8", buffer=pad, strides=(1,))


def pieces_of(win: np.ndarray, starts: np.ndarray, ends: np.ndarray):
    """Each token's bytes 8 at a time, as uint64 (zero past the token's end)."""
    lens = ends - starts
    top = len(win) - 1
    for base in range(0, int(lens.max()), 8):
        at = starts if base == 0 else np.minimum(starts + base, top)
        yield win[at] & MASKS[np.clip(lens - base, 0, 8)]


def count_class(pieces: list[np.ndarray], cls: int) -> np.ndarray:
    """How many bytes of class `cls` each token holds."""
    count = 0
    for p in pieces:
        count = count + (CLASS[p.view(np.uint8)].reshape(-1, 8) == cls).sum(axis=1)
    return count


def number(pieces: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Number equal tokens alike: (id of each, index of the first of each id).

    NumPy sorts integers fast but argsorts them slowly, so each token's index is packed into
    the low bits of its hash and one `np.sort` groups equal hashes in index order. Neighbours
    are then compared in full: tokens that share a hash but differ (rare) are re-sorted by
    their bytes within that group, so the result is exact whatever the hash does.
    """
    n = len(pieces[0])
    bits = max(1, (n - 1).bit_length())
    if bits > 40:
        raise ValueError("too many tokens")  # a text under 2 GB has fewer
    mask = np.uint64((1 << bits) - 1)
    packed = np.sort(hash_pieces(pieces) & ~mask | np.arange(n, dtype=np.uint64))
    idx = (packed & mask).astype(np.intp)
    same_hash = (packed[1:] >> np.uint64(bits)) == (packed[:-1] >> np.uint64(bits))
    same = same_as_next(pieces, idx) & same_hash
    clash = same_hash & ~same
    if clash.any():
        group = np.concatenate([[0], np.cumsum(~same_hash)])
        seg = np.flatnonzero(np.isin(group, group[1:][clash]))
        keys = [p[idx[seg]] for p in reversed(pieces)]
        idx[seg] = idx[seg][np.lexsort([idx[seg], *keys, group[seg]])]
        same = same_as_next(pieces, idx) & same_hash
    start = np.concatenate([[True], ~same])
    ids = np.empty(n, dtype=np.intp)
    ids[idx] = np.cumsum(start) - 1
    return ids, idx[start]


def hash_pieces(pieces: list[np.ndarray]) -> np.ndarray:
    """A 64-bit multiplicative hash of each token's pieces (wrapping arithmetic)."""
    h = np.zeros(len(pieces[0]), dtype=np.uint64)
    for p in pieces:
        h = (h ^ p) * np.uint64(0x9E3779B97F4A7C15)
        h ^= h >> np.uint64(29)
    return h


def same_as_next(pieces: list[np.ndarray], idx: np.ndarray) -> np.ndarray:
    """True where the token at idx[k + 1] equals the one at idx[k], byte for byte."""
    same = np.ones(max(len(idx) - 1, 0), dtype=bool)
    for p in pieces:
        q = p[idx]
        same &= q[1:] == q[:-1]
    return same


def texts(pieces: list[np.ndarray], rows: np.ndarray) -> np.ndarray:
    """The tokens at `rows` as a NumPy bytes array."""
    cols = np.stack([p[rows] for p in pieces], axis=1)
    return cols.view(f"S{8 * len(pieces)}").ravel()


def decode(raw: np.ndarray) -> list[str]:
    """Python strings from a NumPy bytes array, decoded in one call."""
    return raw.astype(f"U{raw.itemsize}").tolist()
