"""From a picture to an answer: preprocess, classify, and say when not to trust the answer.

A classifier always names some digit, even for a dot, a scribble or two digits side by side.
`Recognition.doubts` lists the reasons, measured on the ink and the probabilities, why an
answer should be shown as a guess rather than as the answer.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import cv2
import numpy as np

from model.canvas import PenStrokes, with_mnist_pen
from model.classifier import Classifier
from model.count import Counter
from model.preprocessing import (
    Ink,
    Preprocessed,
    digit_steps,
    find_ink,
    marks_box,
    preprocess_steps,
    stroke_width,
)
from model.reject import Rejecter
from model.segment import (
    HANG_SHORT,
    SHARED,
    TALL_PIECE,
    Group,
    between,
    cut,
    cut_candidates,
    cut_columns,
    group_pieces,
    joined,
    line_height,
    overlapping,
    pair_cuts,
    partitions,
    seams,
    stroke_masks,
    stroke_pairs,
    stroke_runs,
)

# Below this top probability the page shows the two best candidates instead of one answer.
CONFIDENT = 0.70
# Ink mass (sum of the 28x28 pixels, 0..1 each) of MNIST's training digits: 0.1th and 99.9th
# percentiles (see tests/test_recognize.py::test_ink_mass_range_matches_mnist). A drawing
# outside this range is not shaped like any MNIST digit: a blob, a filled area, a scribble.
INK_MASS_RANGE = (28.0, 230.0)
# Width / height of MNIST's training digits: 99.9th percentile (same test as above). A
# drawing wider than this is not one upright digit: two digits, or a digit lying down.
WIDEST = 1.7
# A mark whose longest side is under this many pen widths is a dot, not a digit.
MIN_LENGTH_IN_PEN_WIDTHS = 1.5
# The canvas' strokes are the picture's when their brush covers this share of its ink: only
# then is a drawing redrawn from them (`canvas.with_mnist_pen`).
DRAWN_WITH = 0.98
# More separate marks than this is not one handwritten digit.
MAX_MARKS = 4
# Groups of ink side by side each read at least this surely are several digits, not one.
SPLIT_CONFIDENCE = 0.9
# A lone group of ink the counter calls several digits is cut only where the classifier
# reads both sides at least this surely, and tried at only this many columns (those where
# the least ink crosses): a single digit is almost never cut in two.
LONE_CUT = 0.995
LONE_CUTS = 5
# Three or more digits run together are cut as a chain (`_chain`): at up to CHAIN_CUTS
# places into parts at most CHAIN_PART times as wide as the line is high. A group the "not
# a digit" model declines whole is chained only when this many times as wide as the line is
# high, and otherwise parted in two at most.
CHAIN = 1.4
CHAIN_CUTS = 8
CHAIN_PART = 1.2
# A group the counter calls three or more is also cut in two where it gives two at least
# this probability (its second guess): two digits written wide, a crossed 7.
SECOND_GUESS = 0.1
# A zero crossed by a bar (θ, Ø) is read as this digit; a bar is a stroke no wider across
# than this share of its length (`_crossed_zero`).
CROSSED_ZERO_READ_AS = 8
LINE = 0.2

NOT_A_DIGIT = "this does not look like a digit"
LOW_CONFIDENCE = "the model is not confident"
BLOB = "this is a dot or a blob, not a digit"
TOO_MUCH_INK = "there is more ink than any digit has: a scribble or a filled area?"
TOO_LITTLE_INK = "there is very little ink for a digit"
SEVERAL_DIGITS = "this looks like more than one digit: draw one at a time"
TOO_WIDE = "this is wider than any digit: more than one digit, or one lying on its side?"
SCATTERED = "the ink is in many separate pieces"
# The doubts that say the ink may be several digits rather than one.
SEVERAL = {SEVERAL_DIGITS, TOO_WIDE, SCATTERED}
# The doubts that say it is no digit at all: the answer is declined, not guessed.
DECLINED = {NOT_A_DIGIT, BLOB, TOO_MUCH_INK}


def percent(probability: float) -> str:
    """A probability as people read it: whole percent, "99%" at most (the model's figures
    are not good to better than a point). The page and the command line both say it so."""
    return f"{min(probability, 0.99):.0%}"


@dataclass(frozen=True)
class Recognition:
    """What the model says about one picture.

    Attributes:
        probabilities: (10,) float32 summing to 1, or None when the picture has no ink.
        steps: every preprocessing step (see `Preprocessed`), or None when blank.
        doubts: reasons not to trust the answer; empty when it can be trusted.

    `digit` is the most probable digit even when the drawing is declined (`not_digit`): it
    is then only what the drawing looks closest to.
    """

    probabilities: np.ndarray | None
    steps: Preprocessed | None
    doubts: tuple[str, ...] = ()

    @property
    def blank(self) -> bool:
        return self.probabilities is None

    @property
    def digit(self) -> int | None:
        return None if self.probabilities is None else int(self.probabilities.argmax())

    @property
    def confidence(self) -> float | None:
        return None if self.probabilities is None else float(self.probabilities.max())

    @property
    def unsure(self) -> bool:
        return bool(self.doubts)

    @property
    def not_digit(self) -> bool:
        """Declined: a letter, symbol, shape or doodle (the "not a digit" model), a dot, or a
        scribble."""
        return bool(DECLINED & set(self.doubts))

    @property
    def dot(self) -> bool:
        return BLOB in self.doubts

    def candidates(self, count: int = 2) -> list[tuple[int, float]]:
        """The `count` most probable digits with their probabilities, best first."""
        if self.probabilities is None:
            return []
        order = np.argsort(-self.probabilities, kind="stable")[:count]
        return [(int(d), float(self.probabilities[d])) for d in order]


@dataclass(frozen=True)
class Reading:
    """What the model reads in a picture: nothing (blank), one digit, or a number.

    Attributes:
        digits: one Recognition per digit, left to right; () when the picture has no ink.
        boxes: each digit's (x, y, width, height) in the input picture's pixels.
        redrawn: whether the picture was read redrawn from the canvas' strokes with a
            thinner pen (`canvas.with_mnist_pen`).
    """

    digits: tuple[Recognition, ...] = ()
    boxes: tuple[tuple[int, int, int, int], ...] = ()
    redrawn: bool = False

    @property
    def blank(self) -> bool:
        return not self.digits

    @property
    def number(self) -> str | None:
        """The digits read, left to right ("2025"); None when blank or when any of it is not
        a digit."""
        if not self.digits or self.not_digit:
            return None
        return "".join(str(d.digit) for d in self.digits)

    @property
    def not_digit(self) -> bool:
        """Whether the drawing, or a part of it, is not a digit."""
        return any(d.not_digit for d in self.digits)

    @property
    def unsure(self) -> bool:
        return any(d.unsure for d in self.digits)

    def marked(self) -> str:
        """The number with "?" for each digit the model is unsure of ("20?5") and "✗" for a
        part that is not a digit."""
        return "".join(
            "✗" if d.not_digit else "?" if d.unsure else str(d.digit) for d in self.digits
        )

    def least_certain(self) -> int:
        """The position of the digit read least surely (0 for a single digit)."""
        return int(np.argmin([d.confidence for d in self.digits])) if self.digits else 0


def read(
    image: np.ndarray,
    classifier: Classifier,
    rejecter: Rejecter | None = None,
    counter: Counter | None = None,
    strokes: PenStrokes | None = None,
) -> Reading:
    """Read a digit or a number written left to right (see `preprocessing.preprocess`
    for `image`), with the pen's `strokes` when the canvas recorded them.

    The ink is gathered into groups (`segment.group_pieces`), one per digit unless digits touch;
    neighbours whose boxes overlap are joined where the counter calls them one digit
    (`_join_overlapping`). Unless the groups stand side by side, the ink is first read as one
    digit; when nothing says it is several (see `doubts_about`: marks side by side, too wide,
    scattered; or, for one group, the counter), that is the reading, exactly as `recognize`
    gives it, doubts and all. Otherwise each group the counter says holds several digits is cut
    into them (`_cut`), and every digit is read on its own. Without a counter no group is cut.
    Where the strokes part a group into its digits, that parting is taken (`_cut`). A drawing
    whose pen is heavier than MNIST's for its size is read redrawn from its strokes with MNIST's
    pen (`canvas.with_mnist_pen`), and a digit read as an 8 whose strokes show a zero crossed
    by a bar is read without the bar (`_crossed_zero`).
    """
    found = find_ink(image)
    if found is None:
        return Reading()
    if strokes is not None:
        redrawn = with_mnist_pen(strokes, image.shape[:2], MIN_LENGTH_IN_PEN_WIDTHS)
        if redrawn is not None and _drawn_with(found, strokes):
            picture, thinner = redrawn
            thin_ink = find_ink(picture)
            if thin_ink is not None:
                reading = _read(thin_ink, classifier, rejecter, counter, thinner)
                return replace(reading, redrawn=True)
    return _read(found, classifier, rejecter, counter, strokes)


def _drawn_with(found: Ink, strokes: PenStrokes) -> bool:
    """Whether the strokes are the picture's: each left ink, and together all of it."""
    under = _stroke_ink(found, strokes)
    if len(under) < len(strokes.paths):
        return False
    return np.logical_or.reduce(under).sum() >= DRAWN_WITH * found.mask.sum()


def _stroke_ink(found: Ink, strokes: PenStrokes) -> list[np.ndarray]:
    """Each stroke's ink, in the ink's pixels (the picture may have been shrunk):
    `segment.stroke_masks`."""
    scale = found.input_scale
    return stroke_masks(found.mask, [path / scale for path in strokes.paths], strokes.width / scale)


def _read(
    found: Ink,
    classifier: Classifier,
    rejecter: Rejecter | None,
    counter: Counter | None,
    strokes: PenStrokes | None,
) -> Reading:
    """`read`, the ink found in the picture as it is."""
    groups = group_pieces(found.mask)
    pen = number_pen(found)
    if counter is not None:
        groups = _join_overlapping(found, groups, pen, classifier, rejecter, counter)
    steps = group_steps(found, groups, pen)
    if counter is not None:
        count_probabilities = counter.probabilities(np.stack([s.digit_28x28 for s in steps]))
    else:
        count_probabilities = np.eye(3, dtype=np.float32)[np.zeros(len(groups), np.int64)]
    counts = count_probabilities.argmax(axis=1) + 1
    whole = None
    # Marks side by side are several digits, as `doubts_about` would say of the whole: then
    # the whole is not read as one digit at all.
    if len(groups) < 2 or not _side_by_side(found.mark_boxes, marks_box(found.mark_boxes)[3]):
        whole = recognize_steps([digit_steps(found)], classifier, rejecter)[0]
        if len(groups) == 1:
            # One digit, or digits run together. A lone letter is never cut; but on the
            # canvas, digits run together that are declined whole ("22" taken for a Z) may be
            # parted between their strokes (`_cut`): a letter written in one stroke never is.
            parted = strokes is not None and _wider_than_tall(found)
            one = counts[0] == 1 or (whole.not_digit and not parted)
        else:
            # Groups of ink that are not one digit, and wider than tall, are read as a number:
            # it is declined only if a part is not a digit. (A letter in two groups, an H or
            # a k, is taller than wide and stays declined whole.)
            several = (
                set(whole.doubts) & SEVERAL
                or (whole.not_digit and _wider_than_tall(found))
                or _each_a_digit(found, groups, classifier)
            )
            one = not several
        if one:
            return _reading(found, [(_all_ink(found), whole)], None, strokes, classifier, rejecter)
    line = line_height(groups)
    declined = _declined_whole(steps, counts, rejecter)
    lone = len(groups) == 1
    # A lone group declined whole is parted only between its strokes.
    strokes_only = lone and whole is not None and whole.not_digit
    # Each stroke's ink, where a group is to be cut.
    ink_strokes = _stroke_ink(found, strokes) if strokes is not None and (counts > 1).any() else []
    parts: list[Preprocessed] = []
    part_groups: list[Group] = []
    for group, step, count, likely, not_digit in zip(
        groups, steps, counts, count_probabilities, declined
    ):
        if count == 1:
            parts.append(step)
            part_groups.append(group)
        else:
            # A lone group is cut only where both sides are read surely: a digit is almost
            # never cut. A group the "not a digit" model declines whole, only where both read
            # as surely as SPLIT_CONFIDENCE: a letter the counter takes for several digits
            # (an H, an M) would otherwise part into pieces that pass for digits.
            sure = LONE_CUT if lone else SPLIT_CONFIDENCE if not_digit else 0.0
            # And while narrow, in two at most (CHAIN), whatever the counter says: each more
            # part is one more chance for the pieces of a letter to pass for digits.
            if not_digit and group.box[2] <= CHAIN * line:
                count = 2
            cut_out = _cut(
                found, group, int(count), line, pen, classifier, rejecter, sure, lone,
                ink_strokes, strokes_only=strokes_only,
            )  # fmt: skip
            if count >= 3 and likely[1] >= SECOND_GUESS:
                # Cut in two as well, and keep the likelier reading: the counter's
                # probability times how surely the least sure part is read.
                two = _cut(
                    found, group, 2, line, pen, classifier, rejecter, sure, lone, ink_strokes,
                    strokes_only=strokes_only,
                )  # fmt: skip
                least = [_least_sure(found, p, pen, classifier, rejecter) for p in (cut_out, two)]
                if likely[1] * least[1] > likely[2] * least[0]:
                    cut_out = two
            parts += group_steps(found, cut_out, pen) if len(cut_out) > 1 else [step]
            part_groups += cut_out if len(cut_out) > 1 else [group]
    if len(parts) == 1 and whole is not None:  # one digit after all, with its doubts
        return _reading(found, [(_all_ink(found), whole)], None, strokes, classifier, rejecter)
    digits = recognize_steps(parts, classifier, rejecter)
    return _reading(found, list(zip(part_groups, digits)), pen, strokes, classifier, rejecter)


def _reading(
    found: Ink,
    read_as: list[tuple[Group, Recognition]],
    pen: float | None,
    strokes: PenStrokes | None,
    classifier: Classifier,
    rejecter: Rejecter | None,
) -> Reading:
    """The Reading of each digit's ink read as it was (with `pen`; None: each its own),
    where a zero crossed by a bar is read without it (`_crossed_zero`)."""
    digits = []
    for group, recognition in read_as:
        if (
            strokes is not None
            and recognition.digit == CROSSED_ZERO_READ_AS
            and not recognition.not_digit  # a letter declined stays declined
        ):
            zero = _crossed_zero(found, group, pen, strokes, classifier, rejecter)
            recognition = recognition if zero is None else zero
        digits.append(recognition)
    boxes = tuple(_in_input(d.steps.bbox, found.input_scale) for d in digits)
    return Reading(tuple(digits), boxes)


def _all_ink(found: Ink) -> Group:
    """All the picture's ink as one group."""
    return Group(found.mask, marks_box(found.mark_boxes), found.mark_boxes)


def _crossed_zero(
    found: Ink,
    group: Group,
    pen: float | None,
    strokes: PenStrokes,
    classifier: Classifier,
    rejecter: Rejecter | None,
) -> Recognition | None:
    """A zero crossed by a bar (θ, Ø), which the classifier reads as an 8 (MNIST has hardly
    any): the group read again without one of its strokes that is a straight line across the
    rest of it (its centre inside the rest's box, its width at most LINE of its length),
    where that reads as a 0 at least SPLIT_CONFIDENCE surely and is not declined; None
    where no stroke does."""
    scale = found.input_scale
    width = strokes.width / scale
    # The strokes that come near the group (the rest cannot touch its ink), and unless one
    # of them is straight, no bar.
    x, y, w, h = group.box
    paths = [
        path
        for path in (path / scale for path in strokes.paths)
        if (path.min(axis=0) - width < (x + w, y + h)).all()
        and (path.max(axis=0) + width > (x, y)).all()
    ]
    straight = [_straight(path) for path in paths]
    if not any(straight):
        return None
    # Each one's ink in the picture (none for a stroke that left none), and the group's own
    # strokes: most of their ink in it.
    empty = np.zeros_like(found.mask)
    inks = [next(iter(stroke_masks(found.mask, [path], width)), empty) for path in paths]
    own = [i for i, ink in enumerate(inks) if 2 * (ink & group.mask).sum() > ink.sum()]
    if len(own) < 2:
        return None
    for i in own:
        if not straight[i]:
            continue
        others = np.logical_or.reduce([ink for j, ink in enumerate(inks) if j != i])
        rest = group.mask & (~inks[i] | others)
        if not rest.any():
            continue
        rest_box = cv2.boundingRect(rest.view(np.uint8))
        rx, ry, rw, rh = rest_box
        centre_x, centre_y = (paths[i].min(axis=0) + paths[i].max(axis=0)) / 2
        if not (rx <= centre_x < rx + rw and ry <= centre_y < ry + rh):
            continue
        boxes = np.array([rest_box], np.int64)
        zero = recognize_steps([digit_steps(found, rest, boxes, pen)], classifier, rejecter)[0]
        if zero.digit == 0 and zero.confidence >= SPLIT_CONFIDENCE and not zero.not_digit:
            return zero
    return None


def _straight(path: np.ndarray) -> bool:
    """Whether a stroke's (N, 2) centre line is a straight line: across its direction it
    spans at most LINE of its length."""
    if len(path) < 2:
        return False
    centred = path - path.mean(axis=0)
    _, _, axes = np.linalg.svd(centred, full_matrices=False)
    extent = np.ptp(centred @ axes.T, axis=0)
    return bool(extent[0] > 0 and extent[1] <= LINE * extent[0])


def _join_overlapping(
    found: Ink,
    groups: list[Group],
    pen: float,
    classifier: Classifier,
    rejecter: Rejecter | None,
    counter: Counter,
) -> list[Group]:
    """Neighbouring groups whose boxes overlap (`segment.overlapping`) joined into one where
    the counter calls the two together one digit, the classifier reads them together at
    least SPLIT_CONFIDENCE surely and the "not a digit" model does not decline them: a 4
    whose angle, written apart, reaches under its stem ("ч"), read otherwise as "41"."""
    pairs = overlapping(groups)
    if not pairs:
        return groups
    candidates = [joined(groups[i], groups[i + 1]) for i in pairs]
    batch = np.stack([s.digit_28x28 for s in group_steps(found, candidates, pen)])
    one = counter.probabilities(batch).argmax(axis=1) == 0
    one &= classifier.predict(batch).max(axis=1) >= SPLIT_CONFIDENCE
    if rejecter is not None:
        one &= ~rejecter.declines(batch)
    # Left to right, each group joined at most once: with the one after it, where they
    # read as one digit.
    joinable = {i: together for i, together, ok in zip(pairs, candidates, one) if ok}
    result, i = [], 0
    while i < len(groups):
        result.append(joinable.get(i, groups[i]))
        i += 2 if i in joinable else 1
    return result


def _least_sure(
    found: Ink, parts: list[Group], pen: float, classifier: Classifier, rejecter: Rejecter | None
) -> float:
    """How surely the least sure of the parts a group was cut into is read (a part the "not a
    digit" model declines: 0); 0 when the group was left whole."""
    if len(parts) < 2:
        return 0.0
    confidence, declined = _read_parts(found, parts, pen, classifier, rejecter)
    return float(np.where(declined, 0.0, confidence).min())


def _wider_than_tall(found: Ink) -> bool:
    """Whether all the ink together is at least as wide as it is high."""
    _, _, width, height = marks_box(found.mark_boxes)
    return width >= height


def group_steps(found: Ink, groups: list[Group], pen: float | None = None) -> list[Preprocessed]:
    """Each group of ink as one digit's model input, with one pen across the number
    (`pen`, default `number_pen`): a "1" keeps its neighbours' stroke, not a fat bar."""
    pen = number_pen(found) if pen is None else pen
    return [digit_steps(found, g.mask, g.pieces, pen) for g in groups]


def number_pen(found: Ink) -> float:
    """The pen width across all the ink, measured on its box, in its pixels."""
    x, y, width, height = marks_box(found.mark_boxes)
    return stroke_width(found.mask[y : y + height, x : x + width])


def _declined_whole(
    steps: list[Preprocessed], counts: np.ndarray, rejecter: Rejecter | None
) -> np.ndarray:
    """(N,) bool: whether the "not a digit" model declines each group the counter says
    holds several digits, read whole (never, without one; groups of one digit: False)."""
    declined = np.zeros(len(steps), bool)
    several = np.flatnonzero(counts > 1)
    if rejecter is not None and len(several):
        declined[several] = rejecter.declines(np.stack([steps[i].digit_28x28 for i in several]))
    return declined


def _in_input(box: tuple[int, int, int, int], scale: float) -> tuple[int, int, int, int]:
    """A box in the preprocessed ink's pixels -> in the input picture's pixels."""
    return tuple(int(round(v * scale)) for v in box)


def _each_a_digit(found: Ink, groups: list[Group], classifier: Classifier) -> bool:
    """Whether there are several groups of ink side by side, each read surely as a digit
    (each measured with its own pen, as a digit drawn alone is)."""
    if len(groups) < 2:
        return False
    steps = [digit_steps(found, g.mask, g.pieces) for g in groups]
    confidence = classifier.predict(np.stack([s.digit_28x28 for s in steps])).max(axis=1)
    return bool(confidence.min() >= SPLIT_CONFIDENCE)


def _cut(
    found: Ink,
    group: Group,
    count: int,
    height: float,
    pen: float,
    classifier: Classifier,
    rejecter: Rejecter | None,
    sure: float,
    lone: bool,
    strokes: list[np.ndarray],
    strokes_only: bool = False,
) -> list[Group]:
    """A group of `count` touching digits (3: three or more) cut into them: where the
    classifier reads the least sure part best, a part the "not a digit" model declines
    counting as not read. Two digits: between the pen's `strokes` (each stroke's ink, from
    the canvas; [] for a picture) where such a parting reads both sides at least `sure`ly;
    else between pieces (`segment.partitions`), straight down columns across the group or
    with the ink between two close columns given to both sides (`segment.pair_cuts`), or,
    where none of these reads both sides surely, along the paths near those columns that
    cross the least ink (`segment.seams`); three or more: the best sequence of at least three
    parts, between straight cuts or runs of strokes (`_chain`). Each part is read as the
    number's digits are, with its `pen`. The group as it is when no cut reads every part at
    least `sure`ly.

    A `lone` group (all the ink) is tried only at the LONE_CUTS columns where the least ink
    crosses, and never with ink given to both sides: each cut tried is one more chance to
    read a single digit as two (a slashed 0 as "13", a 4 whose stem stands apart as "14").
    With `strokes_only`, the group is parted between its strokes or not at all."""
    if count == 2:
        # Touching digits are still the strokes each was written with.
        by_strokes = _best_pair(
            found, stroke_pairs(group, strokes), height, pen, classifier, rejecter
        )
        if by_strokes[1] and by_strokes[0] >= sure:
            return list(by_strokes[1])
        if strokes_only:
            return [group]
        if lone:
            columns, shared = cut_candidates(group, height, LONE_CUTS), 0.0
        else:
            columns, shared = cut_columns(group, height), SHARED * height
        straight = partitions(group) + pair_cuts(group, columns, shared)
        best = _best_pair(found, straight, height, pen, classifier, rejecter)
        if best[0] < SPLIT_CONFIDENCE:  # no clean cut straight down: around the strokes
            paths = [cut(group, path) for path in seams(group, columns)]
            around = _best_pair(found, paths, height, pen, classifier, rejecter)
            best = around if around[0] > best[0] else best
        score, pair = best
        return list(pair) if pair and score >= sure else [group]
    return _chain(
        found, group, height, pen, classifier, rejecter, sure, strokes, count, strokes_only
    )


def _best_pair(
    found: Ink,
    pairs: list[tuple[Group, Group] | None],
    height: float,
    pen: float,
    classifier: Classifier,
    rejecter: Rejecter | None,
) -> tuple[float, tuple[Group, Group] | tuple[()]]:
    """The best of some cuts (None: no cut) and how surely its less sure side is read, a
    side the "not a digit" model declines counting as not read; (-1, ()) when none has
    both sides as tall as a digit (a bar or a dot on its own is none)."""
    pairs = [p for p in pairs if p and min(p[0].box[3], p[1].box[3]) >= TALL_PIECE * height]
    if not pairs:
        return -1.0, ()
    # Each side read once, though pairs share sides (`segment.pair_cuts`).
    sides = list({id(side): side for pair in pairs for side in pair}.values())
    confidence, declined = _read_parts(found, sides, pen, classifier, rejecter)
    read_as = dict(zip(map(id, sides), np.where(declined, 0.0, confidence)))
    both_sides = [min(read_as[id(left)], read_as[id(right)]) for left, right in pairs]
    best = int(np.argmax(both_sides))
    return float(both_sides[best]), pairs[best]


def _chain(
    found: Ink,
    group: Group,
    height: float,
    pen: float,
    classifier: Classifier,
    rejecter: Rejecter | None,
    sure: float,
    strokes: list[np.ndarray],
    count: int,
    strokes_only: bool = False,
) -> list[Group]:
    """`count` (three or more) digits run together ("2025" written in one go), which no
    single cut parts into two digits: the sequence of at least `count` parts each read as a
    digit, the least surely read of them as surely as can be (`_best_sequence` over the cut
    candidates, and over the runs of the pen's `strokes`: the better of the two). Fewer
    parts would leave two digits in one, and one of them unread: a narrow 1 between two
    digits is otherwise left inside one of them. The group as it is when no sequence reads
    its least sure part at least `sure`ly; with `strokes_only`, over the runs of strokes
    alone."""
    x, _, width, _ = group.box
    cuts = [] if strokes_only else sorted(cut_candidates(group, height, CHAIN_CUTS))
    edges = [x, *cuts, x + width]
    # Each part: the ink between two edges (by their left edge's order), not the whole
    # group, at most CHAIN_PART line heights wide and as tall as a digit.
    spans, parts = [], []
    for j in range(1, len(edges)):
        for i in range(j):
            if (i, j) == (0, len(edges) - 1) or edges[j] - edges[i] > CHAIN_PART * height:
                continue
            part = between(group, edges[i], edges[j])
            if part is not None and part.box[3] >= TALL_PIECE * height:
                spans.append((i, j))
                parts.append(part)
    best = _best_sequence(found, spans, parts, len(edges) - 1, count, pen, classifier, rejecter)
    if strokes:
        last, runs, parts = stroke_runs(group, strokes, CHAIN_PART * height)
        by_strokes = _best_sequence(found, runs, parts, last, count, pen, classifier, rejecter)
        best = max(best, by_strokes, key=_fewer_first)
    score, found_parts = best
    return found_parts if score >= sure and len(found_parts) > 1 else [group]


def _best_sequence(
    found: Ink,
    spans: list[tuple[int, int]],
    parts: list[Group],
    last: int,
    least: int,
    pen: float,
    classifier: Classifier,
    rejecter: Rejecter | None,
) -> tuple[float, list[Group]]:
    """The sequence of at least `least` of the `parts` (each spanning edges (i, j), from
    edge 0 to `last`) whose least surely read part is read most surely, by dynamic
    programming: (its least confidence, its parts), or (0.0, []) when there is none."""
    if not parts:
        return 0.0, []
    confidence, declined = _read_parts(found, parts, pen, classifier, rejecter)
    confidence = np.where(declined, 0.0, confidence)
    # best[j, k]: (least confidence, parts) of the best way to read the ink left of edge j
    # in k parts (k = `least`: that many or more); as sure, the fewer parts the better: a
    # digit is not cut where it need not be.
    best: dict[tuple[int, int], tuple[float, list[Group]]] = {(0, 0): (1.0, [])}
    for (i, j), part, score in zip(spans, parts, confidence):
        for k in range(least + 1):
            if (i, k) in best:
                candidate = (min(best[i, k][0], float(score)), best[i, k][1] + [part])
                after = (j, min(k + 1, least))
                if after not in best or _fewer_first(candidate) > _fewer_first(best[after]):
                    best[after] = candidate
    return best.get((last, least), (0.0, []))


def _fewer_first(reading: tuple[float, list[Group]]) -> tuple[float, int]:
    """A chain's reading ranked by its least confidence, then by fewer parts."""
    return reading[0], -len(reading[1])


def _read_parts(
    found: Ink,
    parts: list[Group],
    pen: float,
    classifier: Classifier,
    rejecter: Rejecter | None,
) -> tuple[np.ndarray, np.ndarray]:
    """Each candidate part read as one digit of the number (with its `pen`): (N,) float32
    top probability and (N,) bool whether the "not a digit" model declines it (never,
    without one)."""
    batch = np.stack([digit_steps(found, g.mask, g.pieces, pen).digit_28x28 for g in parts])
    confidence = classifier.predict(batch).max(axis=1)
    declined = rejecter.declines(batch) if rejecter is not None else np.zeros(len(parts), bool)
    return confidence, declined


def recognize(
    image: np.ndarray, classifier: Classifier, rejecter: Rejecter | None = None
) -> Recognition:
    """Preprocess and classify one picture (see `preprocessing.preprocess` for `image`)."""
    return recognize_steps([preprocess_steps(image)], classifier, rejecter)[0]


def recognize_steps(
    steps: list[Preprocessed | None], classifier: Classifier, rejecter: Rejecter | None = None
) -> list[Recognition]:
    """Classify many preprocessed pictures in one batch (None for blank ones); with a
    rejecter, those it declines get the NOT_A_DIGIT doubt."""
    inked = [s for s in steps if s is not None]
    digits = np.stack([s.digit_28x28 for s in inked]) if inked else np.zeros((0, 28, 28))
    batch = classifier.predict(digits)
    declined = rejecter.declines(digits) if rejecter is not None and inked else [False] * len(inked)
    answers = iter(zip(batch, declined))
    results = []
    for step in steps:
        if step is None:
            results.append(Recognition(None, None))
        else:
            probabilities, not_digit = next(answers)
            doubts = doubts_about(step, probabilities, bool(not_digit))
            results.append(Recognition(probabilities, step, doubts))
    return results


def doubts_about(
    steps: Preprocessed, probabilities: np.ndarray, not_digit: bool = False
) -> tuple[str, ...]:
    """Reasons why this drawing's answer should be shown as a guess or declined (empty:
    trust it). `not_digit`: what the "not a digit" model says."""
    doubts = [NOT_A_DIGIT] if not_digit else []
    x, y, width, height = steps.bbox
    if max(width, height) < MIN_LENGTH_IN_PEN_WIDTHS * steps.stroke_width:
        doubts.append(BLOB)
    mass = float(steps.digit_28x28.sum())
    if mass > INK_MASS_RANGE[1] and BLOB not in doubts:
        doubts.append(TOO_MUCH_INK)
    elif mass < INK_MASS_RANGE[0]:
        doubts.append(TOO_LITTLE_INK)
    if steps.marks > MAX_MARKS:
        doubts.append(SCATTERED)
    elif _side_by_side(steps.mark_boxes, height) or _stacked(steps.mark_boxes, width, height):
        doubts.append(SEVERAL_DIGITS)
    glyph_height, glyph_width = steps.glyph.shape
    if glyph_width > WIDEST * glyph_height and SEVERAL_DIGITS not in doubts:
        doubts.append(TOO_WIDE)
    if float(probabilities.max()) < CONFIDENT:
        doubts.append(LOW_CONFIDENCE)
    return tuple(doubts)


def _side_by_side(mark_boxes: np.ndarray, height: int) -> bool:
    """Two tall marks that do not overlap horizontally, both standing on the line: two
    digits, e.g. "12" (not the angle of a 4 that stops short of its stem's foot)."""
    bottoms = mark_boxes[:, 1] + mark_boxes[:, 3]
    standing = bottoms.max() - bottoms < HANG_SHORT * height
    tall = mark_boxes[(mark_boxes[:, 3] >= 0.6 * height) & standing]
    if len(tall) < 2:
        return False
    order = np.argsort(tall[:, 0])
    left, right = tall[order, 0], tall[order, 0] + tall[order, 2]
    # Some mark starts to the right of where every mark before it ends.
    return bool((left[1:] > np.maximum.accumulate(right)[:-1]).any())


def _stacked(mark_boxes: np.ndarray, width: int, height: int) -> bool:
    """Two digit-sized marks one above the other with paper between them: two digits written
    in a column. (The bar of a 5 or a dot is too small to count; the two loops of an 8
    touch or nearly so.)"""
    big = mark_boxes[(mark_boxes[:, 3] >= 0.3 * height) & (mark_boxes[:, 2] >= 0.4 * width)]
    if len(big) < 2:
        return False
    order = np.argsort(big[:, 1])
    top, bottom = big[order, 1], big[order, 1] + big[order, 3]
    # Some mark starts clearly below where every mark above it ends.
    return bool((top[1:] > np.maximum.accumulate(bottom)[:-1] + 0.1 * height).any())
