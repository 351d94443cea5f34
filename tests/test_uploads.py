"""Every kind of odd or hostile upload, through the page and through the predict command: a
correct answer or a clear message, and the app keeps serving."""

from __future__ import annotations

import ast
import subprocess
import tomllib

import pytest
import streamlit as st
from conftest import REPO, json_lines, run_predict
from odd_files import readable_files, unreadable_files
from streamlit.testing.v1 import AppTest

from harness.digit_paths import draw_digit
from model.strokes import encode_png

CONFIG = tomllib.loads((REPO / ".streamlit" / "config.toml").read_text())


@pytest.fixture(scope="module")
def app():
    st.cache_resource.clear()
    st.cache_data.clear()
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=60)
    at.session_state["page"] = "Upload a photo"
    return at.run()


def upload(at: AppTest, name: str, content: bytes) -> AppTest:
    at.file_uploader[0].set_value((name, content, "application/octet-stream"))
    return at.run()


def shown(at: AppTest) -> str | None:
    values = [m.value for m in at.metric if m.label.startswith("Prediction")]
    return values[0] if values else None


@pytest.mark.parametrize("odd", readable_files(), ids=lambda f: f.name)
def test_odd_but_valid_upload_is_read_right(app, odd):
    at = upload(app, odd.name, odd.content)
    assert not at.exception
    assert not at.error, [e.value for e in at.error]
    assert shown(at) == str(odd.digit)


@pytest.mark.parametrize("odd", unreadable_files(), ids=lambda f: f.name)
def test_bad_upload_gets_a_message_and_the_app_keeps_serving(app, odd):
    at = upload(app, odd.name, odd.content)
    assert not at.exception
    assert shown(at) is None
    messages = [e.value for e in at.error]
    assert any(odd.name in m and (odd.error in m or "limit" in m) for m in messages), messages
    # The same session still classifies a good upload afterwards.
    at = upload(at, "after.png", encode_png(draw_digit(2, "black_on_white")))
    assert shown(at) == "2"


def test_predict_command_on_every_odd_file(tmp_path):
    files = readable_files() + unreadable_files()
    paths = []
    for odd in files:
        path = tmp_path / odd.name
        path.write_bytes(odd.content)
        paths.append(str(path))
    done = run_predict("--json", *paths)
    assert done.returncode == 1  # some files are unreadable
    results = json_lines(done)
    assert [r["path"] for r in results] == paths
    for odd, result in zip(files, results):
        if odd.digit is not None:
            assert result.get("digit") == odd.digit, (odd.name, result)
        else:
            assert odd.error in result["error"] or "limit" in result["error"], result


def app_constant(name: str):
    """A constant of the Read page, read from its source (importing it would run the page)."""
    tree = ast.parse((REPO / "ui" / "read.py").read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == name for t in node.targets
        ):
            return ast.literal_eval(node.value)
    raise LookupError(name)


def test_server_configuration_is_safe():
    UPLOAD_MB = app_constant("UPLOAD_MB")

    assert CONFIG["server"]["enableXsrfProtection"] is True
    assert CONFIG["server"]["maxUploadSize"] == UPLOAD_MB
    assert CONFIG["server"]["maxMessageSize"] <= 2  # a canvas message, nothing more
    assert CONFIG["client"]["showErrorDetails"] == "none"
    assert CONFIG["browser"]["gatherUsageStats"] is False


def test_the_canvas_toolbar_fix_is_for_the_pinned_canvas():
    """The toolbar fix (ui/canvas_toolbar.js) is written for one version of the canvas
    component: the one requirements.txt pins (another version gets no fix, not a wrong one)."""
    pins = (REPO / "requirements.txt").read_text().splitlines()
    assert f"streamlit-drawable-canvas=={app_constant('CANVAS_VERSION')}" in pins


def test_no_secrets_in_the_repository():
    tracked = subprocess.run(["git", "ls-files"], cwd=REPO, capture_output=True, text=True)
    names = tracked.stdout.split()
    assert not [n for n in names if n.endswith(("secrets.toml", ".env", ".pem", ".key"))]
