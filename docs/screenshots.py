"""Screenshots of the app for the README: desktop and phone width, light and dark theme.

    python docs/screenshots.py        # writes docs/app-desktop.png, docs/app-phone.png, ...

Starts `streamlit run app.py`, draws a handwritten 4 (hand-made pen path) in Chromium and
saves the page (on the phone, drawn with a finger: touch events).
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from harness.browser import (  # noqa: E402
    chromium,
    draw_and_wait,
    model_input,
    running,
    settle,
    swipe_strokes,
    wait_for_answer,
    wait_for_canvas,
)
from harness.digit_paths import DIGIT_PATHS, place  # noqa: E402

DOCS = Path(__file__).resolve().parent
SHOTS = [  # name, width, height, theme, touch screen
    ("app-desktop.png", 1280, 1000, "light", False),
    ("app-desktop-dark.png", 1280, 1000, "dark", False),
    ("app-phone.png", 390, 2600, "light", True),
]


def main() -> int:
    with running("app.py") as server, chromium() as browser:
        for name, width, height, theme, touch in SHOTS:
            context = browser.new_context(
                viewport={"width": width, "height": height},
                color_scheme=theme,
                device_scale_factor=1,
                has_touch=touch,
                is_mobile=touch,
            )
            page = context.new_page()
            page.goto(server.url)
            wait_for_canvas(page)
            four = place(DIGIT_PATHS[4], height=0.75)
            if touch:  # drawn with a finger
                before = model_input(page)
                swipe_strokes(page, four)
                wait_for_answer(page, before)
            else:
                draw_and_wait(page, four)
            page.get_by_text("How the drawing became the model's input").click()
            settle(page)
            # The page scrolls inside Streamlit's own container: back to its top.
            page.evaluate("document.querySelector('[data-testid=stMain]')?.scrollTo(0, 0)")
            page.wait_for_timeout(300)
            page.screenshot(path=str(DOCS / name), full_page=True)
            context.close()
            print(f"wrote docs/{name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
