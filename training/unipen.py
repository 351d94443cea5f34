"""Extract UNIPEN's isolated characters into the JSON-lines files the benchmarks, tests and
the "not a digit" and digit-count models read.

    python -m training.unipen train_r01_v07/ ../shared/data/

`train_r01_v07` is the UNIPEN training release (Zenodo, doi:10.5281/zenodo.1195803; CC BY
4.0). Its `data/<category>/<source>/...` files name the characters (`.SEGMENT CHARACTER
0-1 ? "4"`: pen-down strokes 0 and 1 are a "4", quality "?") and `.INCLUDE` the pen data under
`include/`, where `.PEN_DOWN` ... `.PEN_UP` blocks hold the strokes' x y points and
`.WRITER_ID` names the writer. Written, one character per line, gzipped:

    unipen_dev.jsonl.gz    category 1a, digits (label an int)
    letters_dev.jsonl.gz   categories 1b and 1c, upper and lower case letters
    symbols_dev.jsonl.gz   category 1d, symbols

each line `{"label", "strokes": [[[x, y], ...], ...], "source", "writer", "file", "segment",
"quality"}`, strokes in tablet units with y pointing up, as recorded.
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import sys
from collections.abc import Iterator
from pathlib import Path

OUTPUTS = {
    "unipen_dev.jsonl.gz": ("1a",),
    "letters_dev.jsonl.gz": ("1b", "1c"),
    "symbols_dev.jsonl.gz": ("1d",),
}
SEGMENT = re.compile(r'^\.SEGMENT\s+CHARACTER\s+(\S+)\s+(\S+)\s+"(.*)"\s*$')


def pen_data(path: Path, root: Path) -> tuple[list[list[list[int]]], str]:
    """The pen-down strokes of a file and its `.INCLUDE`d files, in order, and the last
    writer named: ([[[x, y], ...], ...], writer)."""
    strokes: list[list[list[int]]] = []
    writer = ""
    stroke: list[list[int]] | None = None
    for line in path.read_text(errors="replace").splitlines():
        words = line.split()
        if not words:
            continue
        keyword = words[0]
        if keyword == ".INCLUDE" and len(words) > 1:
            included, named = pen_data(root / "include" / words[1], root)
            strokes += included
            writer = named or writer
        elif keyword == ".WRITER_ID" and len(words) > 1:
            writer = words[1]
        elif keyword == ".PEN_DOWN":
            stroke = []
            strokes.append(stroke)
        elif keyword.startswith("."):
            stroke = None
        elif stroke is not None and len(words) >= 2:
            stroke.append([int(float(words[0])), int(float(words[1]))])
    return strokes, writer


def components(spec: str) -> list[int] | None:
    """A segment's strokes: "4", "0-1", "2,5,7-8" -> their indices; None when it names parts
    of strokes ("3:0-3:15"), which are left out."""
    if ":" in spec:
        return None
    indices = []
    for part in spec.split(","):
        first, _, last = part.partition("-")
        indices += range(int(first), int(last or first) + 1)
    return indices


def characters(path: Path, root: Path) -> Iterator[dict]:
    """Every character a data file names, with its strokes."""
    strokes, writer = pen_data(path, root)
    source = path.relative_to(root / "data").parts[1]
    for line in path.read_text(errors="replace").splitlines():
        match = SEGMENT.match(line.strip())
        if match is None:
            continue
        spec, quality, label = match.groups()
        indices = components(spec)
        if not indices or max(indices) >= len(strokes) or len(label) != 1:
            continue
        yield {
            "label": int(label) if label.isdigit() else label,
            "strokes": [strokes[i] for i in indices if strokes[i]],
            "source": source,
            "writer": writer,
            "file": str(path.relative_to(root)),
            "segment": spec,
            "quality": quality,
        }


def extract(root: Path, out: Path) -> dict[str, int]:
    """Write the three files into `out`; returns how many characters each holds."""
    out.mkdir(parents=True, exist_ok=True)
    written = {}
    for name, categories in OUTPUTS.items():
        count = 0
        with gzip.open(out / name, "wt") as lines:
            for category in categories:
                for path in sorted((root / "data" / category).rglob("*.dat")):
                    for character in characters(path, root):
                        if character["strokes"]:
                            lines.write(json.dumps(character) + "\n")
                            count += 1
        written[name] = count
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m training.unipen",
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("root", type=Path, help="the unpacked train_r01_v07 folder")
    parser.add_argument("out", type=Path, help="where to write the .jsonl.gz files")
    args = parser.parse_args(argv)
    if not (args.root / "data").is_dir() or not (args.root / "include").is_dir():
        print(f"error: {args.root} has no data/ and include/: not train_r01_v07", file=sys.stderr)
        return 2
    for name, count in extract(args.root, args.out).items():
        print(f"{args.out / name}: {count:,} characters")
    return 0


if __name__ == "__main__":
    sys.exit(main())
