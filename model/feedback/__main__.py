"""The feedback store's command line, the same code path as the app's buttons:

    python -m model.feedback add --db URL --label 7 drawing.png ...
    python -m model.feedback add --label 2025 year.png     # a number: each digit with its box
    python -m model.feedback stats --db URL
    python -m model.feedback export --db URL DIR

`add` reads each picture with the served models (as the app does) to store the 28x28 image
they read: the store itself never imports the reader.
"""

from __future__ import annotations

import argparse
import json
import sys
import uuid
from pathlib import Path

from model.feedback import (
    DEFAULT_PATH,
    NOT_DIGIT,
    URL_ENV,
    Click,
    Store,
    StoreError,
    check_label,
    database_url,
    file_png,
    iter_export,
    stats,
)


def _add(args) -> int:
    from model.classifier import Classifier, ModelError, model_path
    from model.count import load_counter
    from model.imageio import ImageReadError, read_image
    from model.recognize import Reading, read, recognize
    from model.reject import load_rejecter

    number = str(args.label).strip()
    try:
        # A label of several digits is a number: each of its digits is stored on its own,
        # as the app stores a correction of one digit of a number.
        labels = (
            list(number)
            if len(number) > 1 and number.isdigit() and number.isascii()
            else [check_label(number)]
        )
        classifier = Classifier(model_path(args.model, args.model_dir))
        rejecter = load_rejecter(args.model_dir)
        several = len(labels) > 1
        counter = load_counter(args.model_dir) if several else None
        if several and counter is None:
            raise ValueError(f"{args.model_dir} has no digit-count model to read numbers with")
        store = Store(args.db, per_minute=None)
    except (ValueError, ModelError, StoreError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    session_id = args.session or f"cli-{uuid.uuid4().hex[:12]}"
    failed = False
    for path in map(Path, args.images):
        try:
            picture = read_image(path)
        except (ImageReadError, OSError) as error:
            print(f"{path}: error: {error}", file=sys.stderr)
            failed = True
            continue
        if not several:  # the whole picture is one digit, or not a digit
            whole = recognize(picture, classifier, rejecter)
            reading = Reading() if whole.blank else Reading((whole,), (None,))
        else:
            reading = read(picture, classifier, rejecter, counter)
        if reading.blank:
            print(f"{path}: error: blank picture, nothing stored", file=sys.stderr)
            failed = True
            continue
        if len(reading.digits) != len(labels):
            print(
                f"{path}: error: {len(reading.digits)} digit(s) found, the label has "
                f"{len(labels)}: nothing stored",
                file=sys.stderr,
            )
            failed = True
            continue
        drawing_png = file_png(path, picture)
        clicks = [
            Click(
                drawing_png=drawing_png,
                digit_28x28=digit.steps.digit_uint8,
                label=label,
                answer=NOT_DIGIT if digit.not_digit else digit.digit,
                probabilities=digit.probabilities,
                model_version=classifier.version,
                session_id=session_id,
                box=box,
                source="cli",
            )
            for digit, box, label in zip(reading.digits, reading.boxes, labels)
        ]
        try:
            row_ids = [store.add(click) for click in clicks]
        except StoreError as error:
            print(f"error: {error}", file=sys.stderr)
            return 2
        first = reading.digits[0]
        said = reading.marked() if several else NOT_DIGIT if first.not_digit else first.digit
        rows = ", ".join(map(str, row_ids))
        print(f"{path}: stored as {''.join(labels)!r} (row {rows}; the model said {said})")
    store.close()
    return 1 if failed else 0


def _stats(args) -> int:
    try:
        store = Store(args.db, per_minute=None)
        figures = stats(store.summary())
    except StoreError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(figures))
        return 0
    print(f"{figures['drawings']} drawings labelled in {figures['sessions']} sessions")
    if figures["accuracy"] is not None:
        print(f"model right on {figures['right']} of them: {figures['accuracy']:.2%}")
    for label, counts in figures["per_label"].items():
        if counts["confirmed"] or counts["corrected"]:
            confirmed, corrected = counts["confirmed"], counts["corrected"]
            print(f"  {label:>11}: {confirmed} confirmed, {corrected} corrected")
    for version, figure in figures["per_model"].items():
        print(f"  model {version}: {figure['accuracy']:.2%} of {figure['drawings']}")
    return 0


def _export(args) -> int:
    try:
        store = Store(args.db, per_minute=None)
        written = sum(1 for _ in iter_export(store.rows(), args.folder))
    except (StoreError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(f"wrote {written} drawings to {args.folder}/<label>/")
    return 0


def main(argv: list[str] | None = None) -> int:
    from model.classifier import MODEL_NAMES, model_dir

    parser = argparse.ArgumentParser(
        prog="python -m model.feedback",
        description="Store labelled drawings, and read what users said about the model.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True)
    db_help = f"database URL (default: ${URL_ENV}, secrets, else sqlite:///{DEFAULT_PATH})"

    add = commands.add_parser(
        "add",
        help="store labelled images as the app's buttons do",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    add.add_argument(
        "images", nargs="+", metavar="IMAGE", help="image files, one digit or number each"
    )
    add.add_argument(
        "--label",
        required=True,
        help=f"0-9, a number (its digits stored one by one), or {NOT_DIGIT!r} (or not-a-digit)",
    )
    add.add_argument("--session", default=None, help="session id (default: a new one per run)")
    add.add_argument("--model", choices=MODEL_NAMES, default="cnn", help="network that answers")
    add.add_argument("--model-dir", type=Path, default=model_dir(), help="model folder")
    stat = commands.add_parser("stats", help="counts and the model's accuracy on stored drawings")
    stat.add_argument("--json", action="store_true", help="one JSON object")
    export = commands.add_parser("export", help="write the drawings as DIR/<label>/<id>.png")
    export.add_argument("folder", type=Path, metavar="DIR")
    for command in (add, stat, export):
        command.add_argument("--db", default=None, help=db_help)
    args = parser.parse_args(argv)
    args.db = args.db or database_url()
    return {"add": _add, "stats": _stats, "export": _export}[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
