"""One user of the app over Streamlit's own websocket protocol, without a browser.

A browser session and this client send the server the same messages: a rerun of the page
when it opens, then, for each stroke, a rerun of the drawing fragment carrying the canvas'
new state (its PNG as a data URL, exactly what streamlit-drawable-canvas sends), and a
trigger when Clear is pressed. The server cannot tell them apart, so its work per session is
the same; the client itself costs next to nothing, which lets a 2-core machine hold many
sessions where as many Chromium pages would starve the server of CPU.
"""

from __future__ import annotations

import asyncio
import base64
import json
from dataclasses import dataclass, field

from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.WidgetStates_pb2 import WidgetState

PREDICTION = "Prediction"  # the app's metric labels start with this
CLEAR = "Clear"
READ_TIMEOUT = 60  # seconds: a server that stops answering fails the session, never hangs it


@dataclass
class PageRun:
    """What one run of the script (or fragment) put on the page."""

    metrics: dict[str, str] = field(default_factory=dict)  # label -> value
    canvas_id: str | None = None
    fragment_id: str = ""
    clear_id: str | None = None
    exceptions: list[str] = field(default_factory=list)
    infos: list[str] = field(default_factory=list)


class WebsocketSession:
    """An app session over `ws://.../_stcore/stream` (use `async with`)."""

    def __init__(self, url: str):
        self.url = url.replace("http://", "ws://").rstrip("/") + "/_stcore/stream"
        self.canvas_id: str | None = None
        self.fragment_id = ""
        self.clear_id: str | None = None

    async def __aenter__(self) -> WebsocketSession:
        from websockets.asyncio.client import connect

        self._socket = await connect(
            self.url,
            subprotocols=["streamlit"],
            max_size=None,
            open_timeout=120,
            close_timeout=READ_TIMEOUT,
        )
        return self

    async def __aexit__(self, *exc) -> None:
        await self._socket.close()

    async def open(self) -> PageRun:
        """Load the page, as a browser does once its websocket connects."""
        return await self._rerun([], "")

    async def draw(self, png: bytes) -> PageRun:
        """The canvas now holds `png` (the canvas' PNG bytes): rerun its fragment."""
        state = {
            "drawing": {
                "raw": {"objects": [{"type": "path"}], "background": "#FFFFFF"},
                "data": "data:image/png;base64," + base64.b64encode(png).decode(),
            },
            "backgroundFit": None,
        }
        widget = WidgetState(id=self.canvas_id, json_value=json.dumps(state))
        return await self._rerun([widget], self.fragment_id)

    async def clear(self) -> PageRun:
        """Press Clear."""
        return await self._rerun(
            [WidgetState(id=self.clear_id, trigger_value=True)], self.fragment_id
        )

    async def _rerun(self, widgets: list[WidgetState], fragment_id: str) -> PageRun:
        message = BackMsg()
        message.rerun_script.query_string = ""
        message.rerun_script.page_script_hash = ""
        message.rerun_script.fragment_id = fragment_id
        message.rerun_script.widget_states.widgets.extend(widgets)
        await asyncio.wait_for(self._socket.send(message.SerializeToString()), READ_TIMEOUT)
        run = PageRun()
        while True:
            reply = ForwardMsg()
            reply.ParseFromString(await asyncio.wait_for(self._socket.recv(), READ_TIMEOUT))
            kind = reply.WhichOneof("type")
            if kind == "delta":
                self._read_delta(reply.delta, run)
            elif kind == "script_finished":
                break
        self.canvas_id = run.canvas_id or self.canvas_id
        self.fragment_id = run.fragment_id or self.fragment_id
        self.clear_id = run.clear_id or self.clear_id
        return run

    @staticmethod
    def _read_delta(delta, run: PageRun) -> None:
        if delta.WhichOneof("type") != "new_element":
            return
        element = delta.new_element
        kind = element.WhichOneof("type")
        if kind == "metric" and element.metric.label.startswith(PREDICTION):
            run.metrics[element.metric.label] = element.metric.body
        elif kind == "bidi_component":
            run.canvas_id = element.bidi_component.id
            run.fragment_id = delta.fragment_id
        elif kind == "button" and element.button.label == CLEAR:
            run.clear_id = element.button.id
        elif kind == "exception":
            run.exceptions.append(element.exception.message)
        elif kind == "alert":
            run.infos.append(element.alert.body)
