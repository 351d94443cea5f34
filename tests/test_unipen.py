"""training/unipen.py: UNIPEN's files -> the JSON-lines files of isolated characters."""

from __future__ import annotations

import gzip
import json

from training.unipen import components, main

INDEX = """.VERSION 1.0
.INCLUDE apb/app.doc
.INCLUDE apb/data/apb02/app0237.dat
.SEGMENT CHARACTER 0-1 ? "4"
.SEGMENT CHARACTER 2 OK "1"
.SEGMENT CHARACTER 3:0-3:5 ? "7"
.SEGMENT CHARACTER 9 ? "0"
"""
PEN = """
.WRITER_ID Bill_Cleveland
.STYLE PRINTED
.PEN_DOWN
\t215\t1644
\t215\t1653
.PEN_UP
.PEN_DOWN
\t207\t1650
\t207\t1653
\t206\t1659
.PEN_UP
.PEN_DOWN
\t486\t1649
\t485\t1653
.PEN_UP
.PEN_DOWN
\t571\t1641
.PEN_UP
"""


def unipen_tree(root, category="1a", index=INDEX, pen=PEN):
    """The layout of train_r01_v07: data/<category>/<source>/... naming the characters,
    include/<source>/... holding the pen data."""
    data = root / "data" / category / "apb" / "apb02" / "app0237.dat"
    data.parent.mkdir(parents=True)
    data.write_text(index)
    doc = root / "include" / "apb" / "app.doc"
    doc.parent.mkdir(parents=True)
    doc.write_text(".COMMENT about the source\n.X_DIM 2000\n")
    included = root / "include" / "apb" / "data" / "apb02" / "app0237.dat"
    included.parent.mkdir(parents=True)
    included.write_text(pen)


def read_lines(path):
    with gzip.open(path, "rt") as lines:
        return [json.loads(line) for line in lines]


def test_characters_are_their_strokes_with_who_wrote_them(tmp_path, capsys):
    unipen_tree(tmp_path / "unipen")
    assert main([str(tmp_path / "unipen"), str(tmp_path / "out")]) == 0
    four, one = read_lines(tmp_path / "out" / "unipen_dev.jsonl.gz")
    assert four == {
        "label": 4,
        "strokes": [[[215, 1644], [215, 1653]], [[207, 1650], [207, 1653], [206, 1659]]],
        "source": "apb",
        "writer": "Bill_Cleveland",
        "file": "data/1a/apb/apb02/app0237.dat",
        "segment": "0-1",
        "quality": "?",
    }
    assert one["label"] == 1 and one["strokes"] == [[[486, 1649], [485, 1653]]]
    assert one["quality"] == "OK"
    # Parts of strokes (3:0-3:5) and strokes the file does not have (9) are left out.
    assert read_lines(tmp_path / "out" / "letters_dev.jsonl.gz") == []
    assert "unipen_dev.jsonl.gz: 2 characters" in capsys.readouterr().out


def test_letters_keep_their_label_as_a_character(tmp_path):
    unipen_tree(tmp_path / "unipen", "1b", INDEX.replace('"4"', '"A"'))
    main([str(tmp_path / "unipen"), str(tmp_path / "out")])
    letters = read_lines(tmp_path / "out" / "letters_dev.jsonl.gz")
    assert [letter["label"] for letter in letters] == ["A", 1]


def test_segment_specs():
    assert components("4") == [4]
    assert components("0-2") == [0, 1, 2]
    assert components("2,5,7-8") == [2, 5, 7, 8]
    assert components("3:0-3:15") is None


def test_a_folder_that_is_not_unipen_is_refused(tmp_path, capsys):
    assert main([str(tmp_path), str(tmp_path / "out")]) == 2
    assert "not train_r01_v07" in capsys.readouterr().err
