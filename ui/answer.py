"""The answer panel both ways in share (the canvas and an upload): the digit or number in
large type, the probabilities, the 28x28 input and which pixels drove the answer, and Right /
Wrong, which stores the user's answer.

Shown in page order: `show_results` calls the others top to bottom.
"""

from __future__ import annotations

import uuid
from dataclasses import replace

import numpy as np
import streamlit as st

from model import explain, recognize
from model.canvas import PenStrokes
from model.classifier import Classifier
from model.count import Counter
from model.feedback import LABELS, NOT_DIGIT, Click, RateLimited, StoreError
from model.preprocessing import Preprocessed
from model.recognize import Reading, Recognition, percent
from model.reject import Rejecter
from model.visualize import enlarge, preprocessing_steps, saliency_overlay
from ui.widgets import (
    MODELS,
    count_model_or_none,
    model_or_none,
    not_digit_model_or_none,
    open_store,
    pictures,
    shown_errors,
    store_url,
)


def read_all(
    image: np.ndarray,
    models: dict[str, Classifier],
    rejecter: Rejecter | None,
    counter: Counter | None,
    strokes: PenStrokes | None = None,
) -> dict[str, Reading]:
    """Every model's reading of the picture (a digit or a number), with the canvas' strokes
    when there are any: {name: Reading}."""
    return {
        name: recognize.read(image, model, rejecter, counter, strokes)
        for name, model in models.items()
    }


def show_results(
    image: np.ndarray,
    names: list[str],
    show_why: bool,
    prompt: str,
    drawing_png: bytes,
    where: str,
    strokes: PenStrokes | None = None,
) -> None:
    """The result panel for a picture: the digit or number, each digit's 28x28 input, the
    probabilities and saliency of the digit picked, and Right / Wrong for it.

    Args:
        image: (H, W) uint8 grey, from `read_image` (the canvas' PNG, an upload).
        drawing_png: the picture as the feedback store keeps it.
        where: "draw" or "upload", which keeps each tab's widgets apart.
        strokes: the pen's strokes, for a drawing on the canvas (digits that touch are
            still the strokes each was written with).
    """
    models = {name: model_or_none(name) for name in names}
    models = {name: model for name, model in models.items() if model is not None}
    if not models:
        return
    with shown_errors("Reading this picture"):
        readings = read_all(
            image, models, not_digit_model_or_none(), count_model_or_none(), strokes
        )
        name, first = next(iter(readings.items()))
        if first.blank:
            st.info(prompt, icon=":material/draw:")
            return
        columns = st.columns(len(readings)) if len(readings) > 1 else [st.container()]
        for column, (model_name, reading) in zip(columns, readings.items()):
            with column:
                show_answer(reading, MODELS[model_name])
        if len(first.digits) == 1 and first.digits[0].dot:
            return  # "Draw a bigger digit" is the whole answer: a dot has nothing to show
        pick = pick_digit(first)
        for column, reading in zip(columns, readings.values()):
            picked = reading.digits[min(pick, len(reading.digits) - 1)]
            column.html(probability_bars(picked.probabilities))
        show_model_input(first.digits[pick].steps, name, models[name], show_why, first.redrawn)
        clicks = [
            Click(
                drawing_png=drawing_png,
                digit_28x28=digit.steps.digit_uint8,
                label="",
                answer=NOT_DIGIT if digit.not_digit else digit.digit,
                probabilities=digit.probabilities,
                model_version=models[name].version,
                session_id=session_id(),
                box=box if len(first.digits) > 1 else None,
            )
            for digit, box in zip(first.digits, first.boxes)
        ]
        feedback_buttons(clicks, pick, f"feedback-{where}-{first.number}", MODELS[name])


def show_answer(reading: Reading, label: str) -> None:
    """The digit or number in large type with its confidence, and the two best candidates of
    any digit the model is unsure of; never a digit for a drawing that is not one."""
    if len(reading.digits) == 1:
        show_digit_answer(reading.digits[0], label)
    elif reading.not_digit:
        parts = [str(n) for n, d in enumerate(reading.digits, start=1) if d.not_digit]
        st.metric(
            f"Prediction ({label})",
            "Not a number",
            delta=f"it reads {reading.marked()}",
            delta_color="off",
            delta_arrow="off",
        )
        st.warning(
            f"Part {', '.join(parts)} of this doesn't look like a digit (marked ✗).",
            icon=":material/block:",
        )
    else:
        least = min(d.confidence for d in reading.digits)
        st.metric(
            f"Prediction ({label})",
            reading.marked(),
            delta=f"{len(reading.digits)} digits, the least sure {percent(least)}",
            delta_color="off",
            delta_arrow="off",
        )
        unsure = [
            f"digit {position}: {a} or {b} ({p_a:.0%} vs {p_b:.0%})"
            for position, digit in enumerate(reading.digits, start=1)
            if digit.unsure
            for (a, p_a), (b, p_b) in [digit.candidates(2)]
        ]
        if unsure:
            st.warning("Not sure of " + "; ".join(unsure) + ".", icon=":material/help:")


def show_digit_answer(result: Recognition, label: str) -> None:
    """One digit in large type with its confidence, or the top two when unsure; for a dot,
    a letter, a symbol or a doodle, that it is not a digit."""
    if result.dot:
        st.metric(f"Prediction ({label})", "Draw a bigger digit", delta="this is a dot",
                  delta_color="off", delta_arrow="off")  # fmt: skip
    elif result.not_digit:
        st.metric(
            f"Prediction ({label})",
            "Not a digit",
            delta=f"closest to {result.digit} ({percent(result.confidence)})",
            delta_color="off",
            delta_arrow="off",
        )
        st.info("That doesn't look like a digit.", icon=":material/block:")
    elif result.unsure:
        (first, p_first), (second, p_second) = result.candidates(2)
        st.metric(
            f"Prediction ({label})",
            f"{first} or {second}?",
            delta=f"unsure: {p_first:.0%} vs {p_second:.0%}",
            delta_color="off",
            delta_arrow="off",
        )
        st.warning(
            "Not sure. " + "; ".join(d[0].upper() + d[1:] for d in result.doubts) + ".",
            icon=":material/help:",
        )
    else:
        st.metric(
            f"Prediction ({label})",
            str(result.digit),
            delta=f"{percent(result.confidence)} confident",
            delta_color="off",
            delta_arrow="off",
        )


def pick_digit(reading: Reading) -> int:
    """For a number, each digit's 28x28 input with its confidence, and a choice of the digit
    whose probabilities and saliency are shown (the least certain one at first)."""
    if len(reading.digits) == 1:
        return 0
    st.html(
        pictures(
            [
                (
                    enlarge(d.steps.digit_28x28, 3),
                    f"{d.digit}{'?' if d.unsure else ''} · {percent(d.confidence)}",
                )
                for d in reading.digits
            ],
            columns=len(reading.digits),
        )
    )
    labels = [f"{position}: {d.digit}" for position, d in enumerate(reading.digits, start=1)]
    pick = st.segmented_control(
        "Show the digit",
        labels,
        default=labels[reading.least_certain()],
        required=True,
        # A new reading starts again from its least certain digit.
        key=f"pick-{reading.number}",
    )
    return labels.index(pick)


def show_model_input(
    steps: Preprocessed, name: str, model: Classifier, show_why: bool, redrawn: bool = False
) -> None:
    """The 28x28 image the model saw, and which of its pixels drove the answer; `redrawn`:
    whether it came from the canvas' strokes redrawn with a thinner pen."""
    figures = [(enlarge(steps.digit_28x28), "What the model sees: 28x28 pixels")]
    if show_why:
        with shown_errors("Showing which pixels drove the answer"):
            saliency = explain.occlusion_saliency(model, steps.digit_28x28)
            figures.append(
                (
                    saliency_overlay(steps.digit_28x28, saliency),
                    f"Why ({MODELS[name]}): orange ink supports the answer, blue argues against it",
                )
            )
    st.html(pictures(figures))
    if redrawn:
        st.caption(
            "Your pen is heavy for a digit this small, so it was read from your strokes "
            "redrawn with a thinner pen: a heavy pen fills the loops of a small digit."
        )
    steps_panel = st.expander(
        "How the drawing became the model's input", key="steps", on_change="rerun"
    )
    if steps_panel.open:
        with steps_panel, shown_errors("Showing the preprocessing steps"):
            tiles = preprocessing_steps(steps)
            st.image([t for t, _ in tiles], caption=[c for _, c in tiles], width=150)


FEEDBACK_NOTICE = (
    "Right or Wrong keeps this drawing, the 28x28 image the model read, your answer and the "
    "model's, with the time and a random id of this visit: nothing about you. It is used to "
    "measure the model on real drawings and to improve it."
)


def store_clicks(clicks: list[Click], labels: list[str], key: str) -> None:
    """Store clicks on Right or Wrong, each with its label (a widget callback: runs on the
    click, never on the drawing path); what happened is left in session_state for
    `feedback_buttons` to show. A later answer to the same drawing replaces the earlier."""
    try:
        store = open_store(store_url())
        for click, label in zip(clicks, labels):
            store.add(replace(click, label=label))
    except RateLimited as error:
        st.session_state[f"{key}-said"] = ("warning", f"Not saved: {error}.")
    except (StoreError, ValueError) as error:
        st.session_state[f"{key}-said"] = ("error", f"Not saved: {error}.")
    else:
        said = " ".join("not a digit" if label == NOT_DIGIT else label for label in labels)
        st.session_state[f"{key}-said"] = ("success", f"Saved as {said}. Thank you!")


def wrong_picked(click: Click, key: str) -> None:
    label = st.session_state.get(f"{key}-wrong")
    if label is not None:
        st.session_state[f"{key}-wrong"] = None  # ready for another answer
        store_clicks([click], [label], key)


def feedback_buttons(clicks: list[Click], pick: int, key: str, model: str) -> None:
    """ "Right" for the whole answer (a number: each digit, with its box), and "Wrong" in
    plain words: what the picked digit was."""
    number = "".join("✗" if c.answer == NOT_DIGIT else str(c.answer) for c in clicks)
    with st.container(border=True):
        right_labels = [str(c.answer) for c in clicks]
        st.button(
            f"Right: it is {number}" if len(clicks) > 1 else "Right",
            icon=":material/check:",
            key=f"{key}-right",
            on_click=store_clicks,
            args=(clicks, right_labels, key),
        )
        if len(clicks) == 1:
            question = f"Wrong? The {model} read it as {number}. It was:"
        else:
            read_as = "not a digit" if clicks[pick].answer == NOT_DIGIT else clicks[pick].answer
            question = (
                f"Wrong? Pick the wrong digit above. Digit {pick + 1} of {len(clicks)}, "
                f"read as {read_as}, was:"
            )
        st.pills(
            question,
            LABELS,
            key=f"{key}-{pick}-wrong",
            on_change=wrong_picked,
            args=(clicks[pick], f"{key}-{pick}"),
        )
        for said_key in (key, f"{key}-{pick}"):
            said = st.session_state.pop(f"{said_key}-said", None)
            if said:
                kind, message = said
                getattr(st, kind)(message)
        st.caption(FEEDBACK_NOTICE)


def session_id() -> str:
    """An anonymous id for this browser session (random; nothing about the person)."""
    return st.session_state.setdefault("feedback_session", uuid.uuid4().hex)


def probability_bars(probabilities: np.ndarray) -> str:
    """HTML bars for the ten digits' probabilities, the most probable one highlighted and
    labelled; each bar's exact value in its tooltip.

    Args:
        probabilities: (10,) float summing to 1.
    """
    top = int(probabilities.argmax())
    bars = []
    for digit, p in enumerate(probabilities.astype(float)):
        label = f'<b style="bottom: calc({p:.2%} + 2px)">{percent(p)}</b>' if digit == top else ""
        bars.append(
            f'<div class="ds-bar{" top" if digit == top else ""}" title="{digit}: {p:.2%}">'
            f'{label}<div style="height: {p:.2%}"></div><span>{digit}</span></div>'
        )
    ranked = np.argsort(-probabilities, kind="stable")[:3]
    summary = ", ".join(f"{d}: {probabilities[d]:.0%}" for d in ranked)
    return (
        f'<div class="ds-bars" role="img" '
        f'aria-label="Probability of each digit; highest {summary}">{"".join(bars)}</div>'
    )
