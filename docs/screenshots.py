"""Screenshots of the app for the README: desktop and phone width, light and dark theme.

    python docs/screenshots.py        # writes docs/app-desktop.png, docs/app-phone.png, ...

Starts `streamlit run app.py`, draws a handwritten 4 (hand-made pen path) in Chromium and
saves the screen as it is after the stroke, unscrolled: a 1366x768 laptop and a 390x844 phone
(drawn with a finger: touch events).
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from harness.browser import (  # noqa: E402
    chromium,
    draw_and_wait,
    model_input,
    phone_context,
    running,
    settle,
    swipe_strokes,
    wait_for_answer,
    wait_for_canvas,
)
from harness.digit_paths import DIGIT_PATHS, place  # noqa: E402

DOCS = Path(__file__).resolve().parent
SHOTS = [  # name, width, height, theme, phone (touch screen, mobile browser)
    ("app-desktop.png", 1366, 768, "light", False),
    ("app-desktop-dark.png", 1366, 768, "dark", False),
    ("app-phone.png", 390, 844, "light", True),
]


def main() -> int:
    with running("app.py") as server, chromium() as browser:
        for name, width, height, theme, touch in SHOTS:
            options = {"color_scheme": theme, "device_scale_factor": 1}
            if touch:
                context = phone_context(browser, width, height, **options)
            else:
                context = browser.new_context(
                    viewport={"width": width, "height": height}, **options
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
            settle(page)
            # The page scrolls inside Streamlit's own container: back to its top.
            page.evaluate("document.querySelector('[data-testid=stMain]')?.scrollTo(0, 0)")
            page.wait_for_timeout(300)
            page.screenshot(path=str(DOCS / name))  # what the screen shows, unscrolled
            context.close()
            print(f"wrote docs/{name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
