"""training/written.py: numbers cut where their characters were written, for training data
that does not depend on the app's own cutting."""

from __future__ import annotations

import numpy as np
import pytest

from model.preprocessing import find_ink
from model.strokes import PenDigit, render
from training.written import characters, own_masks, touching_groups, whole

HEIGHT, WIDTH, BRUSH = 280, 840, 14


def bar(x: float) -> np.ndarray:
    """An upright stroke at column x, in canvas pixels."""
    return np.array([[x, 60.0], [x, 220.0]])


def ring(x: float) -> np.ndarray:
    """A closed loop 80 px wide centred on column x."""
    turn = np.linspace(0, 2 * np.pi, 60)
    return np.stack([x + 40 * np.cos(turn), 140 + 80 * np.sin(turn)], axis=1)


def written(*strokes_per_character: list[np.ndarray], style: str = "black_on_white"):
    """The picture's ink and each character's own ink, for characters given as strokes."""
    chosen = [PenDigit(0, list(strokes), "test", "w") for strokes in strokes_per_character]
    strokes = [s for character in strokes_per_character for s in character]
    found = find_ink(render(strokes, BRUSH, style, HEIGHT, WIDTH))
    return found, own_masks(found, strokes, chosen, BRUSH)


@pytest.mark.parametrize("style", ["white_on_black", "black_on_white", "black_on_transparent"])
def test_characters_apart_are_groups_of_one_and_cover_the_ink(style):
    found, masks = written([bar(100)], [ring(300)], [bar(500), bar(540)], style=style)
    groups = touching_groups(found, masks)
    assert [members for members, _ in groups] == [[0], [1], [2]]
    union = np.zeros_like(found.mask)
    for _, mask in groups:
        assert not (union & mask).any()
        union |= mask
    assert (union == found.mask).all()
    # A character in two pieces (two bars) is one group: its pieces go together.
    assert groups[2][1].sum() == masks[2].sum()


def test_touching_characters_are_one_group_of_two_and_each_is_cut_out():
    found, masks = written([ring(300)], [bar(345)])  # the bar crosses the ring's right side
    groups = touching_groups(found, masks)
    assert [members for members, _ in groups] == [[0, 1]]
    ring_input, bar_input = characters(found, masks)
    whole_input = characters(*written([ring(300), bar(345)]))[0]
    # Each is its own columns of the group: the bar is narrow, the ring wide, and neither is
    # the group itself.
    assert (bar_input > 0).any(axis=0).sum() < (ring_input > 0).any(axis=0).sum()
    assert not np.array_equal(ring_input, whole_input)
    assert not np.array_equal(bar_input, whole_input)


def test_a_lone_character_is_all_its_ink_and_a_blank_picture_none():
    picture = render([bar(300), ring(420)], BRUSH, "black_on_white", HEIGHT, WIDTH)
    found, masks = written([bar(300), ring(420)])
    assert np.array_equal(whole(picture), characters(found, masks)[0])
    assert whole(np.full((HEIGHT, WIDTH), 255, np.uint8)) is None
