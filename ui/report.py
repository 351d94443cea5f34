"""The Model report page: how the served models do on MNIST's test set (accuracy, sample
images as the model reads them, training curves, confusion matrix, mistakes) and on the
drawings people labelled here with Right / Wrong.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import streamlit as st

from model.classifier import ModelError, model_dir, model_path, train_hint
from model.feedback import LABELS, StoreError, stats
from model.imageio import read_image
from model.preprocessing import scale_pixels
from ui.widgets import (
    MODELS,
    REST,
    TOP,
    framed,
    load_arrays,
    load_metrics,
    load_model,
    open_store,
    settings,
    store_url,
    thumbnail,
)

if TYPE_CHECKING:
    import altair as alt

SAMPLES_SHOWN = 24


@st.cache_data(show_spinner=False)
def sample_predictions(model_file: str, samples_file: str) -> np.ndarray | None:
    """The model's (N, 10) probabilities for the committed sample test images."""
    samples = load_arrays(samples_file)
    try:
        model = load_model(model_file)
    except ModelError:  # the page says the model is missing
        return None
    if samples is None:
        return None
    return model.predict(scale_pixels(samples["images"]))


def chosen_model(names: list[str]) -> str:
    """The model the report is about: the one chosen in the sidebar, or picked here when
    the sidebar says Both."""
    if len(names) == 1:
        return names[0]
    return st.segmented_control(
        "Report for",
        list(MODELS),
        format_func=MODELS.get,
        default="cnn",
        required=True,
        key="report_model",
    )


def accuracy_figures(metrics: dict) -> None:
    """Each model's MNIST test accuracy, with its details in the tooltip."""
    columns = st.columns(len(MODELS))
    for column, (name, label) in zip(columns, MODELS.items()):
        m = metrics.get(name, {})
        value = f"{m['test_accuracy']:.2%}" if "test_accuracy" in m else "n/a"
        column.metric(f"{label} test accuracy", value, help=accuracy_help(m))


@st.fragment
def samples_section(name: str) -> None:
    """MNIST test images as the model reads them; a button draws others. A fragment: the
    button reruns only this."""
    label = MODELS[name]
    folder = model_dir()
    st.subheader(f"Sample MNIST test images, as the {label} reads them")
    samples = load_arrays(str(folder / "samples.npz"))
    probabilities = sample_predictions(str(model_path(name)), str(folder / "samples.npz"))
    if samples is None or probabilities is None:
        st.warning(f"Sample images or the model are missing: {train_hint(name)}.")
        return
    if st.button("Show other samples", icon=":material/shuffle:"):
        st.session_state.sample_seed = st.session_state.get("sample_seed", 0) + 1
    shown = min(SAMPLES_SHOWN, len(samples["labels"]))
    rng = np.random.default_rng(st.session_state.get("sample_seed", 0))
    pick = rng.choice(len(samples["labels"]), shown, replace=False)
    truth, predicted = samples["labels"][pick], probabilities[pick].argmax(1)
    st.image(
        [framed(samples["images"][i], t != p) for i, t, p in zip(pick, truth, predicted)],
        caption=[f"{'✗ ' if t != p else ''}true {t} · said {p}" for t, p in zip(truth, predicted)],
        width=84,
    )
    st.caption(
        f"{int((truth == predicted).sum())} of {shown} right; "
        "wrong ones are framed in red and marked ✗."
    )


def training_section(m: dict, label: str) -> None:
    """The curves of the training on MNIST (training and validation) and, for a fine-tuned
    model, of the fine-tune on people's corrections, apart."""
    fine_tune = m.get("fine_tune") if isinstance(m.get("fine_tune"), dict) else None
    base = fine_tune.get("from", {}) if fine_tune else m
    if not m:
        return
    st.subheader("Training progress")
    if isinstance(base.get("history"), dict) and base["history"]:
        st.caption(
            "Training on MNIST: accuracy and loss after each epoch, on the (distorted) "
            "training images and on MNIST's test images, which were only watched, never "
            "trained on."
            + (f" These curves are of {base['history_of']}." if base.get("history_of") else "")
        )
        st.altair_chart(history_chart(base["history"]))
    else:
        st.caption(
            f"No training curves were recorded for this {label}'s training on MNIST: "
            "train_model.py records them the next time it is trained."
        )
    if fine_tune and isinstance(m.get("history"), dict) and m["history"]:
        st.caption(
            f"Then fine-tuned on people's corrections with MNIST replayed: accuracy and loss on "
            f"its training batches after each of its {len(next(iter(m['history'].values())))} "
            "epochs. The held-out figures are under Drawn here."
        )
        st.altair_chart(history_chart(m["history"]))


def mistakes_section(name: str, m: dict) -> None:
    """The model's mistakes on MNIST's test set, the most confident first."""
    label = MODELS[name]
    mistakes = load_arrays(str(model_dir() / f"{name}_mistakes.npz"))
    if mistakes is None or not len(mistakes.get("labels", [])):
        return
    count = len(mistakes["labels"])
    out_of = f" of {m['test_images']:,} test images" if "test_images" in m else ""
    st.subheader(f"The {label}'s mistakes: {count}{out_of}")
    order = np.argsort(-mistakes["confidence"])[:SAMPLES_SHOWN]
    st.image(
        [framed(mistakes["images"][i], False) for i in order],
        caption=[
            f"true {mistakes['labels'][i]} · said {mistakes['predicted'][i]} "
            f"({mistakes['confidence'][i]:.0%})"
            for i in order
        ],
        width=84,
    )
    st.caption("The most confident mistakes first. Many are hard even for people.")


def confusion_chart(confusion: list[list[int]]) -> alt.LayerChart:
    """Heatmap of true digit (rows) against predicted digit (columns), counts written in."""
    import altair as alt
    import pandas as pd

    matrix = np.asarray(confusion)
    rows = [
        {
            "true": str(t),
            "predicted": str(p),
            "count": int(matrix[t, p]),
            "kind": "right" if t == p else "wrong",
        }
        for t in range(10)
        for p in range(10)
    ]
    data = pd.DataFrame(rows)
    base = alt.Chart(data, height=360).encode(
        x=alt.X("predicted:N", axis=alt.Axis(labelAngle=0, orient="top")),
        y=alt.Y("true:N"),
    )
    # Colour the mistakes only: the diagonal (hundreds each) would drown them out.
    cells = base.mark_rect().encode(
        color=alt.condition(
            "datum.kind == 'wrong' && datum.count > 0",
            alt.Color("count:Q", scale=alt.Scale(scheme="orangered", type="symlog"), legend=None),
            alt.value("transparent"),
        ),
        tooltip=["true:N", "predicted:N", "count:Q"],
    )
    text = base.mark_text(fontSize=11).encode(
        text=alt.condition("datum.count > 0", "count:Q", alt.value("")),
        opacity=alt.condition("datum.kind == 'right'", alt.value(0.55), alt.value(1.0)),
    )
    return cells + text


def history_chart(history: dict[str, list[float]]) -> alt.Chart:
    """Accuracy and loss per epoch, on the training batches and on the validation set."""
    import altair as alt
    import pandas as pd

    rows = [
        {
            "epoch": epoch,
            "measure": "accuracy" if "accuracy" in key else "loss",
            "on": "validation" if key.startswith("val_") else "training",
            "value": value,
        }
        for key, values in history.items()
        for epoch, value in enumerate(values, start=1)
    ]
    return (
        alt.Chart(pd.DataFrame(rows), height=200)
        .mark_line(point=True)
        .encode(
            x=alt.X("epoch:Q", axis=alt.Axis(tickMinStep=1)),
            y=alt.Y("value:Q", scale=alt.Scale(zero=False), title=None),
            color=alt.Color("on:N", title=None, legend=alt.Legend(orient="bottom")),
            tooltip=["epoch:Q", "on:N", alt.Tooltip("value:Q", format=".4f")],
        )
        .facet(column=alt.Column("measure:N", title=None))
        .resolve_scale(y="independent")
    )


def accuracy_help(m: dict) -> str:
    """The tooltip of a model's accuracy figure, from what metrics.json holds."""
    parts = []
    if "test_errors" in m and "test_images" in m:
        parts.append(
            f"{m['test_errors']} errors on the {m['test_images']:,} MNIST test images, "
            "by the served (LiteRT) model"
        )
    if "keras_test_accuracy" in m.get("served", {}):
        parts.append(
            f"the Keras model it was exported from: {m['served']['keras_test_accuracy']:.2%}"
        )
    if "parameters" in m:
        parts.append(f"{m['parameters']:,} parameters")
    if "epochs" in m and "training_seconds" in m:
        parts.append(f"{m['epochs']} epochs in {m['training_seconds'] / 60:.0f} min")
    return "; ".join(parts) + "." if parts else "metrics.json has no details."


def drawn_here_charts(rows: list[dict]) -> tuple[alt.Chart, alt.Chart]:
    """Per label: confirmations and corrections; per day: the model's accuracy on them."""
    import altair as alt
    import pandas as pd

    frame = pd.DataFrame(rows)
    frame["said"] = np.where(frame["answer"] == frame["label"], "confirmed", "corrected")
    per_label = (
        alt.Chart(frame, height=260)
        .mark_bar()
        .encode(
            x=alt.X(
                "label:N",
                sort=list(LABELS),
                title="what the user said it was",
                axis=alt.Axis(labelAngle=0),
            ),
            y=alt.Y("count():Q", title="drawings", axis=alt.Axis(tickMinStep=1)),
            color=alt.Color(
                "said:N",
                scale=alt.Scale(domain=["confirmed", "corrected"], range=[REST, TOP]),
                title=None,
                legend=alt.Legend(orient="bottom"),
            ),
            tooltip=["label:N", "said:N", "count():Q"],
        )
    )
    frame["day"] = pd.to_datetime(frame["created_at"], utc=True).dt.floor("D")
    frame["right"] = frame["said"] == "confirmed"
    daily = frame.groupby("day", as_index=False).agg(
        accuracy=("right", "mean"), drawings=("right", "size")
    )
    over_time = (
        alt.Chart(daily, height=220)
        .mark_line(point=True, color=TOP)
        .encode(
            x=alt.X("day:T", title=None),
            y=alt.Y("accuracy:Q", axis=alt.Axis(format="%"), scale=alt.Scale(domain=[0, 1])),
            tooltip=[
                alt.Tooltip("day:T"),
                alt.Tooltip("accuracy:Q", format=".1%"),
                "drawings:Q",
            ],
        )
    )
    return per_label.properties(padding={"left": 10, "bottom": 10}), over_time


def show_fine_tune(m: dict) -> None:
    """The fine-tuned model's gate figures next to the model it started from."""
    record = m["fine_tune"]
    before, after, gate = (
        value if isinstance(value := record.get(key), dict) else {}
        for key in ("before", "after", "gate")
    )

    def percent(value) -> str:
        return f"{value:.2%}" if isinstance(value, float | int) else "n/a"

    def count(key: str) -> str:
        value = record.get(key)
        return f"{value:,}" if isinstance(value, int) else "?"

    st.markdown(
        f"The served CNN was fine-tuned on {count('corrections')} corrections "
        f"(with MNIST replayed) and checked on {count('held_out_corrections')} "
        f"more from {count('held_out_sessions')} sessions it never saw. Gate: "
        f"**{'passed' if gate.get('passed') else 'refused'}**."
    )
    st.table(
        {
            "": ["MNIST test accuracy", "held-out corrections"],
            "base model": [percent(before.get("mnist")), percent(before.get("corrections"))],
            "fine-tuned": [percent(after.get("mnist")), percent(after.get("corrections"))],
        }
    )


def drawn_here_section(m: dict) -> None:
    """How the model does on people's drawings: what they confirmed and corrected."""
    st.subheader("Drawn here")
    if isinstance(m.get("fine_tune"), dict):
        show_fine_tune(m)
    try:
        store = open_store(store_url())
        rows = store.summary()
    except StoreError as error:
        st.info(f"No figures from people's drawings: {error}.", icon=":material/database:")
        return
    if not rows:
        st.caption(
            "Nobody has said Right or Wrong yet. Each click under an answer adds to this section."
        )
        return
    figures = stats(rows)
    left, middle, right = st.columns(3)
    left.metric("Drawings labelled", f"{figures['drawings']:,}")
    middle.metric("Right on them", f"{figures['accuracy']:.1%}")
    right.metric("Sessions", f"{figures['sessions']:,}")
    per_label, over_time = drawn_here_charts(rows)
    st.altair_chart(per_label, width="stretch")
    st.caption("Accuracy on people's drawings, per day")
    st.altair_chart(over_time, width="stretch")
    latest = [row for row in store.rows(newest_first=True, limit=200) if not row.correct][:12]
    if latest:
        st.caption("The latest corrections: the drawing, what the model said, what it was")
        st.image(
            [thumbnail(read_image(row.drawing_png), 240) for row in latest],
            caption=[
                f"said {row.answer if row.answer is not None else '-'} · was {row.label}"
                for row in latest
            ],
            width=160,
        )


# The page.

metrics = load_metrics(str(model_dir()))
st.title("Model report")
accuracy_figures(metrics)
name = chosen_model(settings().names)
m = metrics.get(name, {})
samples_section(name)
training_section(m, MODELS[name])
if "confusion_matrix" in m:
    st.subheader("Confusion matrix (MNIST test set)")
    st.caption("Rows: the true digit; columns: the model's answer. Mistakes are coloured.")
    st.altair_chart(confusion_chart(m["confusion_matrix"]), width="stretch")
mistakes_section(name, m)
drawn_here_section(metrics.get("cnn", {}))
