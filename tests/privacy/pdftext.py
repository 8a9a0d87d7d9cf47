"""Text out of an uncompressed PDF written by fpdf2, without a PDF library (none is a dependency):
the strings drawn by `Tj`, read through every font's ToUnicode map (embedded fonts draw glyph
ids, not letters) and, for the core fonts, as Latin-1."""

from __future__ import annotations

import re

_TJ = re.compile(rb"\(((?:\\.|[^\\)])*)\)\s*Tj", re.DOTALL)
_BFCHAR = re.compile(rb"beginbfchar(.*?)endbfchar", re.DOTALL)
_PAIR = re.compile(rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>")
_ESCAPES = {b"n": b"\n", b"r": b"\r", b"t": b"\t", b"b": b"\b", b"f": b"\f"}


def _unescape(raw: bytes) -> bytes:
    out = bytearray()
    i = 0
    while i < len(raw):
        c = raw[i : i + 1]
        if c != b"\\":
            out += c
            i += 1
            continue
        nxt = raw[i + 1 : i + 2]
        if nxt in _ESCAPES:
            out += _ESCAPES[nxt]
            i += 2
        elif nxt.isdigit():
            digits = re.match(rb"[0-7]{1,3}", raw[i + 1 : i + 4])
            assert digits
            out.append(int(digits.group(0), 8) & 0xFF)
            i += 1 + len(digits.group(0))
        else:
            out += nxt
            i += 2
    return bytes(out)


def pdf_text(pdf: bytes) -> str:
    """Everything the PDF draws, one string per `Tj`, joined by newlines; each string read
    with every ToUnicode map in the file and as Latin-1 (wrong readings are harmless noise)."""
    maps = []
    for block in _BFCHAR.findall(pdf):
        maps.append(
            {
                int(g, 16): bytes.fromhex(u.decode()).decode("utf-16-be", "replace")
                for g, u in _PAIR.findall(block)
            }
        )
    lines = []
    for raw in _TJ.findall(pdf):
        text = _unescape(raw)
        lines.append(text.decode("latin-1"))
        if len(text) % 2 == 0:
            glyphs = [int.from_bytes(text[i : i + 2], "big") for i in range(0, len(text), 2)]
            for cmap in maps:
                lines.append("".join(cmap.get(g, "\ufffd") for g in glyphs))
    return "\n".join(lines)
