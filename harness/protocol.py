"""A visitor of a Streamlit app that speaks the app's websocket protocol the way a browser tab
does, without a browser: so one process can be thirty visitors, and what a load test measures is
the server, not thirty copies of Chromium drawing charts.

What a tab does, and so what ``Visitor`` does (Streamlit 1.67; the frontend's ``App``,
``WidgetStateManager``, ``ForwardMessageCache`` and ``AppRoot``):

- It opens ``/_stcore/stream`` with the subprotocols ``streamlit`` and an XSRF token, and asks
  for a run with a ``BackMsg.rerun_script``: the link's query string, the values of every widget
  it shows, the page's script hash, the hashes of the messages it has cached, and for a fragment
  rerun the fragment's id.
- It keeps the page as a tree of blocks and elements addressed by each delta's
  ``metadata.delta_path``; every node remembers the run that wrote it and its fragment. When a
  run finishes, nodes that run did not rewrite are dropped (for a fragment run, only inside that
  fragment).
- Large elements come once in full, flagged ``metadata.cacheable``; later runs send only
  ``ref_hash`` for those the request said were cached. A cached message ages by one with each
  finished run (of its fragment, for a fragment run) and is dropped after
  ``max_cached_message_age`` runs.
- ``auto_rerun`` announces a fragment's interval: the tab reruns that fragment on a timer
  (``setInterval``, whether or not the last answer came) until a full run starts
  (``new_session`` without fragment ids), ``stop_auto_rerun`` names it, or the interval changes.
- A click sends the widget values with the button's ``trigger_value`` set; a changed widget sends
  its new value, and a widget bound to the URL rewrites the query string.

Nothing here knows the GAN page: elements are found by label, key or text, so the page can be
redesigned without touching the client. Readouts are ``st.metric`` elements or a component that
plays them in frames (the live view's player): its JSON data holds ``readouts`` (their labels)
and ``frames`` (each with its ``values`` and a serial ``n``, oldest first), which the browser
shows ``period`` seconds apart; a visitor reads the last frame as what the page shows, and logs
each frame at the time a tab would show it. A visitor connects to loopback addresses only and is
bounded: in time (every wait has a timeout, a visitor closes itself after ``max_seconds``), in
messages (``max_messages``) and in what it keeps (bounded logs).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import ipaddress
import json
import math
import re
import threading
import time
import urllib.request
from collections import deque
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, TypeVar
from urllib.parse import parse_qsl, urlencode, urlsplit

from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.Block_pb2 import Block
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.Markdown_pb2 import Markdown
from streamlit.proto.NumberInput_pb2 import NumberInput
from streamlit.proto.Slider_pb2 import Slider
from streamlit.proto.WidgetStates_pb2 import WidgetState
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol

T = TypeVar("T")
Shows = Callable[["Visitor"], bool]
"""What a visitor waits to see: true once the page shows the effect of an action."""

ROOTS = ("main", "sidebar", "event", "bottom")
"""The page's four root containers, in the order of a delta path's first index."""
STREAM_PATH = "_stcore/stream"
SUBPROTOCOLS = [Subprotocol("streamlit"), Subprotocol("PLACEHOLDER_AUTH_TOKEN")]
"""What a tab offers: the protocol, then its XSRF token (a tab without the cookie sends this
placeholder; the token only matters for signed-in users)."""
MIN_TIMER_SECONDS = 0.05
MAX_TIMERS = 64
LOG_LENGTH = 20_000

SUCCESS = ForwardMsg.FINISHED_SUCCESSFULLY
FRAGMENT_SUCCESS = ForwardMsg.FINISHED_FRAGMENT_RUN_SUCCESSFULLY
EARLY = ForwardMsg.FINISHED_EARLY_FOR_RERUN
COMPILE_ERROR = ForwardMsg.FINISHED_WITH_COMPILE_ERROR


def stream_url(base_url: str) -> tuple[str, str]:
    """The websocket URL of the app at ``base_url`` and the Origin a tab on it sends; raises
    ``ValueError`` unless the host is a loopback IP address (not a name that could resolve
    elsewhere)."""
    parts = urlsplit(base_url)
    if parts.scheme not in ("http", "ws"):
        raise ValueError(f"{base_url!r}: only http:// or ws:// to a loopback address")
    host = parts.hostname or ""
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback or parts.port is None:
        raise ValueError(f"{base_url!r}: the host must be a loopback address with a port")
    path = parts.path if parts.path.endswith("/") else parts.path + "/"
    netloc = f"[{host}]:{parts.port}" if ":" in host else f"{host}:{parts.port}"
    return f"ws://{netloc}{path}{STREAM_PATH}", f"http://{netloc}"


# -- the page ----------------------------------------------------------------------------------

@dataclass(eq=False)
class Node:
    """A block or an element of the page. ``kind`` is the element's type (``"metric"``,
    ``"button"``, ...) or ``"block"``; ``proto`` is the element's own message (a ``Metric``,
    a ``Button``) or the ``Block``."""

    kind: str
    proto: Any
    run_id: str
    fragment_id: str = ""
    children: list[Node] = field(default_factory=list)
    frames: Frames | None = None
    """The readouts a component plays, if it is such a component."""

    @property
    def is_block(self) -> bool:
        return self.kind == "block"

    @property
    def block_type(self) -> str | None:
        return self.proto.WhichOneof("type") if self.is_block else None

    @property
    def key(self) -> str | None:
        """The user key of a widget (``st.button(..., key="play")``), from its element id."""
        element_id = getattr(self.proto, "id", "")
        if not element_id.startswith("$$ID-"):
            return None
        key = element_id.split("-", 2)[-1]
        return None if key == "None" else key

    @property
    def label(self) -> str:
        return getattr(self.proto, "label", "")

    @property
    def text(self) -> str:
        """What the element says: a markdown's or an alert's body, a heading, a metric's value."""
        for name in ("body", "message"):
            if hasattr(self.proto, name):
                return getattr(self.proto, name)
        return self.label


@dataclass(frozen=True)
class Frames:
    """What a component that plays readouts in frames was handed by one run."""

    labels: tuple[str, ...]
    frames: tuple[tuple[int, tuple[str, ...]], ...]
    """(serial, values), oldest first."""
    period: float
    replace: bool
    status: str = ""
    """The status line of the last frame (the player writes it under the controls)."""

    @classmethod
    def of(cls, proto: Any) -> Frames | None:
        """The frames in a component's JSON data, or None if it holds none."""
        text = proto.json or proto.mixed.json or proto.bytes.decode(errors="replace")
        try:
            data = json.loads(text) if text else None
            labels = tuple(str(r["label"]) for r in data["readouts"])
            frames = tuple((int(f["n"]), tuple(str(v) for v in f["values"]))
                           for f in data["frames"])
            period = float(data.get("period", 0.0))
        except (ValueError, TypeError, KeyError):
            return None
        if not frames:
            return None
        status = str(data["frames"][-1].get("status") or "")
        return cls(labels, frames, period, bool(data.get("replace")), status)

    @property
    def shown(self) -> dict[str, str]:
        """The readouts once the last frame is shown."""
        return dict(zip(self.labels, self.frames[-1][1], strict=False))


class Page:
    """The page as a tab holds it, built from deltas and trimmed at the end of every run."""

    def __init__(self) -> None:
        self.roots = [Node("block", Block(), "") for _ in ROOTS]

    def apply(self, delta: Any, path: list[int], run_id: str) -> Node | None:
        """Put a ``new_element`` or ``add_block`` delta at ``path``; returns the new node
        (``None`` for a transient element such as a spinner, which the page does not keep).
        Raises ``ValueError`` for a path the page has no place for."""
        kind = delta.WhichOneof("type")
        if kind == "new_element":
            element = delta.new_element
            element_kind = element.WhichOneof("type") or "empty"
            node = Node(element_kind, getattr(element, element_kind), run_id, delta.fragment_id)
        elif kind == "add_block":
            block = delta.add_block
            node = Node("block", block, run_id, delta.fragment_id)
            old = self._at(path)
            if (old is not None and old.is_block and old.block_type == block.WhichOneof("type")
                    and not (block.HasField("dialog") and block.id != old.proto.id)):
                node.children = old.children  # same container: it keeps what it holds
        else:
            return None
        self._set(path, node, run_id)
        return node

    def _at(self, path: list[int]) -> Node | None:
        if not path or not 0 <= path[0] < len(self.roots):
            return None
        node = self.roots[path[0]]
        for index in path[1:]:
            if not node.is_block or not 0 <= index < len(node.children):
                return None
            node = node.children[index]
        return node

    def _set(self, path: list[int], node: Node, run_id: str) -> None:
        if len(path) < 2 or not 0 <= path[0] < len(self.roots):
            raise ValueError(f"bad delta path {path}")
        parent = self.roots[path[0]]
        parent.run_id = run_id
        for index in path[1:-1]:
            if not 0 <= index < len(parent.children) or not parent.children[index].is_block:
                raise ValueError(f"delta path {path}: no container at index {index}")
            parent = parent.children[index]
            parent.run_id = run_id  # as the tab does: a run that writes inside keeps it
        index = path[-1]
        if index < len(parent.children):
            parent.children[index] = node
        elif index == len(parent.children):
            parent.children.append(node)
        else:
            raise ValueError(f"delta path {path}: index {index} past the end")

    def clear_stale(self, run_id: str, fragment_ids: list[str]) -> None:
        """Drop what run ``run_id`` did not write: anything, after a full run; after a run of
        ``fragment_ids``, only what lies inside those fragments."""
        fragments = set(fragment_ids)
        for i, root in enumerate(self.roots):
            kept = _clear(root, run_id, fragments, inside=False)
            self.roots[i] = kept if kept is not None else Node("block", Block(), run_id)

    # -- finding things ------------------------------------------------------------------------

    def nodes(self) -> Iterator[Node]:
        """Every block and element, in document order (main, sidebar, event, bottom)."""
        todo = list(reversed(self.roots))
        while todo:
            node = todo.pop()
            yield node
            todo.extend(reversed(node.children))

    def elements(self, kind: str | None = None) -> Iterator[Node]:
        return (n for n in self.nodes() if not n.is_block and (kind is None or n.kind == kind))

    def button(self, label: str) -> Node | None:
        """The button labelled ``label``; an enabled one if there are several."""
        found = [n for n in self.elements("button") if n.label == label]
        return next((n for n in found if not n.proto.disabled), found[0] if found else None)

    def widget(self, key_or_label: str) -> Node | None:
        """The widget with this user key, else the first one with this label."""
        widgets = [n for n in self.elements() if getattr(n.proto, "id", "")]
        return (next((n for n in widgets if n.key == key_or_label), None)
                or next((n for n in widgets if n.label == key_or_label), None))

    def metric(self, label: str) -> str | None:
        """The value shown by the metric labelled ``label`` (or a component's readout)."""
        found = next((n.proto.body for n in self.elements("metric") if n.label == label), None)
        if found is None:
            found = next((n.frames.shown[label] for n in self.elements("bidi_component")
                          if n.frames is not None and label in n.frames.shown), None)
        return found

    def captions(self) -> list[str]:
        """Captions, and the status line the player shows with its last frame."""
        return [*(n.proto.body for n in self.elements("markdown")
                  if n.proto.element_type == Markdown.Type.CAPTION),
                *(n.frames.status for n in self.elements("bidi_component")
                  if n.frames is not None and n.frames.status)]

    def caption_with(self, text: str) -> str | None:
        """The first caption that contains ``text``."""
        return next((c for c in self.captions() if text in c), None)

    def alerts(self, kind: str = "warning") -> list[str]:
        """Bodies of ``st.error``/``st.warning``/``st.info``/``st.success`` boxes of that kind."""
        return [n.proto.body for n in self.elements("alert")
                if _alert_kind(n.proto) == kind]

    def exceptions(self) -> list[str]:
        return [f"{n.proto.type}: {n.proto.message}" for n in self.elements("exception")]

    def texts(self) -> list[str]:
        return [n.text for n in self.elements() if n.text]


def _clear(node: Node, run_id: str, fragments: set[str], inside: bool) -> Node | None:
    """The frontend's stale-node rule, for ``node`` and what it holds."""
    if not node.is_block:
        keep = (node.kind == "toast" or node.run_id == run_id
                or (bool(fragments) and (not node.fragment_id or not inside)))
        return node if keep else None
    if fragments:
        if inside and node.run_id != run_id:
            return None
        inside = inside or (node.fragment_id in fragments and node.run_id == run_id)
    elif node.run_id != run_id:
        return None
    node.children = [kept for child in node.children
                     if (kept := _clear(child, run_id, fragments, inside)) is not None]
    return node


def _alert_kind(alert: Any) -> str:
    return {1: "error", 2: "warning", 3: "info", 4: "success"}.get(alert.format, "alert")


# -- widget values -----------------------------------------------------------------------------

def widget_state(kind: str, proto: Any, *, initial: bool = False) -> WidgetState | None:
    """The value a tab holds for a widget it has just been sent: the value the server set
    (``set_value``) or else the widget's default; ``initial`` ignores ``set_value``. ``None``
    for elements a tab sends no value for until they are used (buttons, downloads)."""
    state = WidgetState(id=proto.id)
    use_set = proto.set_value if hasattr(proto, "set_value") and not initial else False
    if kind in ("selectbox", "radio"):
        value = proto.raw_value if use_set and proto.HasField("raw_value") else (
            proto.options[proto.default] if proto.HasField("default")
            and 0 <= proto.default < len(proto.options) else None)
        if value is None:
            return None
        state.string_value = value
    elif kind == "slider" and proto.type == Slider.Type.SELECT_SLIDER:
        values = (list(proto.raw_value) if use_set and proto.raw_value
                  else [proto.options[int(i)] for i in proto.default])
        state.string_array_value.data.extend(values)
    elif kind == "slider":
        state.double_array_value.data.extend(proto.value if use_set else proto.default)
    elif kind == "number_input":
        value = proto.value if use_set else proto.default
        if not use_set and not proto.HasField("default"):
            return None
        if proto.data_type == NumberInput.DataType.INT:
            state.int_value = int(value)
        else:
            state.double_value = value
    elif kind == "checkbox":
        state.bool_value = proto.value if use_set else proto.default
    elif kind in ("text_input", "text_area"):
        state.string_value = proto.value if use_set else proto.default
    elif kind == "file_uploader":
        state.file_uploader_state_value.SetInParent()
    else:
        return None
    return state


def changed_state(node: Node, value: Any) -> WidgetState:
    """The widget state of ``node`` set to ``value``; ``ValueError`` if the widget cannot show
    it (not one of its options, out of its range, wrong type)."""
    proto, state = node.proto, WidgetState(id=node.proto.id)
    if node.kind in ("selectbox", "radio"):
        if value not in proto.options:
            raise ValueError(f"{node.label!r} offers {list(proto.options)}, not {value!r}")
        state.string_value = value
    elif node.kind == "slider" and proto.type == Slider.Type.SELECT_SLIDER:
        values = list(value) if isinstance(value, tuple | list) else [value]
        if any(v not in proto.options for v in values):
            raise ValueError(f"{node.label!r} offers {list(proto.options)}, not {value!r}")
        state.string_array_value.data.extend(values)
    elif node.kind == "slider":
        values = [float(v) for v in (value if isinstance(value, tuple | list) else [value])]
        if any(not proto.min <= v <= proto.max for v in values):
            raise ValueError(f"{node.label!r} spans {proto.min:g}..{proto.max:g}, not {value!r}")
        state.double_array_value.data.extend(values)
    elif node.kind == "number_input":
        number = float(value)
        if (proto.has_min and number < proto.min) or (proto.has_max and number > proto.max):
            raise ValueError(f"{node.label!r} spans {proto.min:g}..{proto.max:g}, not {value!r}")
        if proto.data_type == NumberInput.DataType.INT:
            if number != int(number):
                raise ValueError(f"{node.label!r} takes whole numbers, not {value!r}")
            state.int_value = int(number)
        else:
            state.double_value = number
    elif node.kind == "checkbox":
        if not isinstance(value, bool):
            raise ValueError(f"{node.label!r} is a checkbox: True or False, not {value!r}")
        state.bool_value = value
    elif node.kind in ("text_input", "text_area"):
        state.string_value = str(value)
    else:
        raise ValueError(f"{node.label or node.kind!r}: cannot set a value on a {node.kind}")
    return state


def _js_number(value: float) -> str:
    """A number as JavaScript's ``String(n)`` writes it (``64``, ``0.0001``)."""
    if value == int(value) and abs(value) < 1e21:
        return str(int(value))
    return format(Decimal(repr(value)), "f") if abs(value) >= 1e-6 else repr(value)


def _url_value(state: WidgetState) -> list[str]:
    """How the tab writes a bound widget's value into the URL."""
    kind = state.WhichOneof("value")
    value = getattr(state, kind)
    if kind in ("string_value",):
        return [value]
    if kind in ("int_value", "double_value"):
        return [_js_number(value)]
    if kind == "bool_value":
        return ["true" if value else "false"]
    if kind == "string_array_value":
        return [v for v in value.data if v]
    if kind == "double_array_value":
        return [_js_number(v) for v in value.data]
    return []


def with_param(query: str, key: str, values: list[str]) -> str:
    """``query`` with ``key`` set to ``values`` (removed if empty), keys sorted as the tab's
    query-string library writes them."""
    pairs = [(k, v) for k, v in parse_qsl(query, keep_blank_values=True) if k != key]
    pairs += [(key, v) for v in values]
    return urlencode(sorted(pairs, key=lambda kv: kv[0]))


# -- the message cache -------------------------------------------------------------------------

class MessageCache:
    """The tab's cache of large messages, by hash: the server sends a ``ref_hash`` instead of a
    message whose hash the rerun request listed."""

    def __init__(self) -> None:
        self.run_count = 0
        self._messages: dict[str, tuple[bytes, int, str]] = {}  # hash -> (bytes, run, fragment)

    def __len__(self) -> int:
        return len(self._messages)

    def hashes(self) -> list[str]:
        return list(self._messages)

    def keep(self, msg: ForwardMsg, data: bytes) -> None:
        if msg.metadata.cacheable and msg.hash and msg.hash not in self._messages:
            self._messages[msg.hash] = (data, self.run_count, msg.delta.fragment_id)

    def get(self, ref: ForwardMsg) -> ForwardMsg | None:
        """The cached message ``ref`` points to, with ``ref``'s metadata (as the tab does)."""
        entry = self._messages.get(ref.ref_hash)
        if entry is None:
            return None
        data, _, fragment_id = entry
        self._messages[ref.ref_hash] = (data, self.run_count, fragment_id)  # used: young again
        msg = ForwardMsg()
        msg.ParseFromString(data)
        msg.metadata.CopyFrom(ref.metadata)
        return msg

    def age(self, max_age: int, fragment_ids: list[str]) -> None:
        """One more run finished: drop what has not been used for more than ``max_age`` runs
        (after a fragment run, only that fragment's messages age)."""
        self.run_count += 1
        for key, (_, run, fragment_id) in list(self._messages.items()):
            if fragment_ids and fragment_id not in fragment_ids:
                continue
            if self.run_count - run > max_age:
                del self._messages[key]


# -- a visitor ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Answer:
    """One action and how long the server took, in seconds from sending it: until it started
    the run the action asked for (its ``new_session``), and until the message after which the
    page showed the action's effect (``inf`` if either never came within the timeout)."""

    action: str
    sent_at: float
    started_s: float
    answer_s: float

    @property
    def answered(self) -> bool:
        return math.isfinite(self.answer_s)


@dataclass(frozen=True)
class Run:
    """A finished run: when its last message arrived, how it ended, which fragments it ran."""

    at: float
    status: int
    fragment_ids: tuple[str, ...]


@dataclass
class _Timer:
    interval: float
    task: asyncio.Task[None]


class Visitor:
    """One browser tab's worth of protocol: see the module's docstring. Use it from one asyncio
    event loop (``async with Visitor(...)``, or ``open``/``close``)."""

    def __init__(self, base_url: str, query: str = "", name: str = "", *,
                 max_seconds: float = 3600.0, max_messages: int = 2_000_000,
                 load_page: bool = False) -> None:
        self.ws_url, self.origin = stream_url(base_url)
        self.load_page = load_page
        """Load the page over HTTP before the websocket, as a tab does, keeping the cookies
        it sets and sending them with the websocket's upgrade: what a balancer that sticks a
        tab to a replica by cookie needs."""
        self.cookies: dict[str, str] = {}
        self.base_url = base_url
        self.query = query.lstrip("?")
        self.name = name or self.query or "visitor"
        self.max_seconds = max_seconds
        self.max_messages = max_messages
        self.page = Page()
        self.cache = MessageCache()
        self.widgets: dict[str, WidgetState] = {}
        self.session_id = ""
        self.run_id = ""
        self.page_script_hash = ""
        self.max_cached_age = 2
        self.script_running = False
        self.runs_started = 0
        self.full_runs_started = 0
        self.last_full_run: int | None = None
        """How the latest full run ended; None while it runs. (A run that a click replaces
        never ends: the server drops its last messages.)"""
        self._full_run_id = ""
        self.runs: deque[Run] = deque(maxlen=LOG_LENGTH)
        self._finish_watchers: list[list[Run]] = []
        self.metric_log: dict[str, deque[tuple[float, str]]] = {}
        self.errors: list[str] = []
        self.answers: list[Answer] = []
        self.messages = 0
        self.bytes_received = 0
        self.cache_hits = 0
        self.reruns_sent = 0
        self.auto_reruns_sent = 0
        self.opened_at: float | None = None
        self._ws: ClientConnection | None = None
        self._receiver: asyncio.Task[None] | None = None
        self._expiry: asyncio.TimerHandle | None = None
        self._timers: dict[str, _Timer] = {}
        self._waiters: list[tuple[Shows, asyncio.Future[float]]] = []
        self._new_session_seen = False
        self._closing = False
        self._frames_seen = -math.inf
        self._frames_until = -math.inf
        self.timers_fire = True
        """False: the fragments' timers are kept as announced but send nothing (a caller that
        asks for the runs itself, ``rerun``)."""

    # -- connection ----------------------------------------------------------------------------

    async def __aenter__(self) -> Visitor:
        await self.open()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def open(self, timeout: float = 90.0, ready: Shows | None = None) -> None:
        """Connect, ask for the first run like a tab loading the link, and return once a full
        run has finished (and ``ready`` holds, if given). The server's first visitor waits for
        the app's imports: allow a long ``timeout``. A visitor that cannot open is closed."""
        loop = asyncio.get_running_loop()
        try:
            if self.load_page:
                await asyncio.to_thread(self._get_page, timeout)
            await self._connect(timeout)
            self.opened_at = time.monotonic()
            self._expiry = loop.call_later(self.max_seconds,
                                           lambda: loop.create_task(self.close()))
            self._receiver = loop.create_task(self._receive())
            msg = BackMsg()
            msg.rerun_script.query_string = self.query
            self._fill_context(msg)
            await self._send(msg)
            settled = ready or (lambda _v: True)
            await self.wait_for(lambda v: v.idle and settled(v), timeout)
        except BaseException:
            await self.close()
            raise

    async def _connect(self, timeout: float, resume: str = "") -> None:
        """Open the websocket (with the page's cookies; ``resume``: the session to take up
        again, as a tab that lost its connection asks for it)."""
        protocols = [*SUBPROTOCOLS, Subprotocol(resume)] if resume else SUBPROTOCOLS
        cookie = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        # proxy=None: never through a proxy from the environment, straight to loopback.
        self._ws = await connect(
            self.ws_url, subprotocols=protocols, origin=self.origin,  # type: ignore[arg-type]
            proxy=None, compression="deflate", open_timeout=timeout, ping_interval=None,
            max_size=64 * 2**20, max_queue=1024, close_timeout=2,
            additional_headers={"Cookie": cookie} if cookie else None)

    def _get_page(self, timeout: float) -> None:
        """GET the page (the app's address and the link's query) as a tab loads it, keeping
        the cookies its response sets."""
        url = self.base_url + (f"?{self.query}" if self.query else "")
        request = urllib.request.Request(url, headers={"Cookie": "; ".join(
            f"{k}={v}" for k, v in self.cookies.items())} if self.cookies else {})
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        with opener.open(request, timeout=timeout) as response:
            response.read()
            for header in response.headers.get_all("Set-Cookie") or []:
                name, _, value = header.split(";", 1)[0].partition("=")
                self.cookies[name.strip()] = value.strip()

    async def reconnect(self, timeout: float = 60.0) -> None:
        """Drop the websocket and open it again asking for the same session, as a tab does
        after losing its connection, then rerun as it does; returns once that run finished.
        The session is taken up again only by the process that holds it: elsewhere the server
        starts a new one (``session_id`` then changes)."""
        loop = asyncio.get_running_loop()
        self._closing = True
        self._stop_timers()
        if self._ws is not None:
            await self._ws.close()
        if self._receiver is not None:
            await asyncio.gather(self._receiver, return_exceptions=True)
        self._closing = False
        await self._connect(timeout, resume=self.session_id)
        self._receiver = loop.create_task(self._receive())
        await self._send(self.rerun_message())
        runs = self.full_runs_started
        await self.wait_for(lambda v: v.full_runs_started > runs and v.idle, timeout)

    async def close(self) -> None:
        self._closing = True
        self._stop_timers()
        if self._expiry is not None:
            self._expiry.cancel()
        if self._ws is not None:
            await self._ws.close()
        if self._receiver is not None:
            self._receiver.cancel()
            await asyncio.gather(self._receiver, return_exceptions=True)

    @property
    def idle(self) -> bool:
        """The latest full run finished well and no run is under way."""
        return self.last_full_run == SUCCESS and not self.script_running

    async def _send(self, msg: BackMsg) -> None:
        if self._ws is None:
            raise RuntimeError(f"{self.name}: not connected")
        if self.opened_at is not None and time.monotonic() - self.opened_at > self.max_seconds:
            raise TimeoutError(f"{self.name}: open for more than {self.max_seconds:g} s")
        await self._ws.send(msg.SerializeToString())

    def _fill_context(self, msg: BackMsg) -> None:
        context = msg.rerun_script.context_info
        context.timezone, context.timezone_offset, context.locale = "UTC", 0, "en-US"
        context.url, context.is_embedded, context.color_scheme = self.base_url, False, "light"

    def rerun_message(self, fragment_id: str = "", auto: bool = False,
                      changed: WidgetState | None = None) -> BackMsg:
        """The ``rerun_script`` a tab sends: every widget's value (``changed`` replacing its
        widget's, or added as a trigger), the cached hashes, and the fragment for a fragment
        rerun."""
        msg = BackMsg()
        rerun = msg.rerun_script
        rerun.query_string = self.query
        rerun.page_script_hash = self.page_script_hash
        if fragment_id:
            rerun.fragment_id = fragment_id
        if auto:
            rerun.is_auto_rerun = True
        states = dict(self.widgets)
        if changed is not None:
            states[changed.id] = changed
        rerun.widget_states.widgets.extend(states.values())
        rerun.cached_message_hashes.extend(self.cache.hashes())
        self._fill_context(msg)
        return msg

    # -- receiving -----------------------------------------------------------------------------

    async def _receive(self) -> None:
        assert self._ws is not None
        try:
            async for data in self._ws:
                now = time.monotonic()
                if isinstance(data, str):
                    self._error(f"text frame from the server: {data[:80]!r}")
                    continue
                try:
                    self._on_message(data, now)
                except Exception as exc:  # a message the client cannot read is its finding
                    self._error(f"could not apply a message: {type(exc).__name__}: {exc}")
                self._settle_waiters(now)
                if self.messages >= self.max_messages:
                    self._error(f"more than {self.max_messages} messages: closing")
                    break
                if now - (self.opened_at or now) > self.max_seconds:
                    break
        except ConnectionClosed as exc:
            if not self._closing:
                self._error(f"connection closed by the server: {exc}")
        finally:
            self._stop_timers()
            for _, future in self._waiters:
                if not future.done():
                    future.set_exception(ConnectionError(f"{self.name}: connection ended"))

    def _on_message(self, data: bytes, now: float) -> None:
        msg = ForwardMsg()
        msg.ParseFromString(data)
        self.messages += 1
        self.bytes_received += len(data)
        self.cache.keep(msg, data)
        kind = msg.WhichOneof("type")
        if kind == "ref_hash":
            cached = self.cache.get(msg)
            if cached is None:
                self._error(f"cached message missing: {msg.ref_hash}")
                return
            self.cache_hits += 1
            msg, kind = cached, cached.WhichOneof("type")
        if kind == "new_session":
            self._on_new_session(msg)
        elif kind == "delta":
            self._on_delta(msg, now)
        elif kind == "auto_rerun":
            self._start_timer(msg.auto_rerun.fragment_id, msg.auto_rerun.interval)
        elif kind == "stop_auto_rerun":
            for fragment_id in msg.stop_auto_rerun.fragment_ids:
                self._stop_timer(fragment_id)
        elif kind == "script_finished":
            self._on_script_finished(msg, now)
        elif kind == "session_status_changed":
            self.script_running = msg.session_status_changed.script_is_running
        elif kind == "page_info_changed":
            self.query = msg.page_info_changed.query_string
        elif (kind == "session_event" and msg.session_event.WhichOneof("type")
              == "script_compilation_exception"):
            exc = msg.session_event.script_compilation_exception
            self._error(f"script compilation error: {exc.type}: {exc.message}")

    def _on_new_session(self, msg: ForwardMsg) -> None:
        self._new_session_seen = True
        self.runs_started += 1
        self.full_runs_started += not msg.metadata.run.fragment_ids
        self.run_id = msg.metadata.run.script_run_id
        self.page_script_hash = msg.new_session.page_script_hash
        if msg.new_session.initialize.session_id:
            self.session_id = msg.new_session.initialize.session_id
        if msg.new_session.config.max_cached_message_age:
            self.max_cached_age = msg.new_session.config.max_cached_message_age
        if not msg.metadata.run.fragment_ids:
            self._full_run_id, self.last_full_run = self.run_id, None
            self._stop_timers()  # a full run: it announces again the timers it still wants

    def _on_delta(self, msg: ForwardMsg, now: float) -> None:
        node = self.page.apply(msg.delta, list(msg.metadata.delta_path), self.run_id)
        if node is None or node.is_block:
            return
        if node.kind == "exception":
            self._error(f"exception shown: {node.proto.type}: {node.proto.message}")
        elif node.kind == "alert" and _alert_kind(node.proto) == "error":
            self._error(f"error shown: {node.proto.body}")
        elif node.kind == "metric":
            log = self.metric_log.setdefault(node.label, deque(maxlen=LOG_LENGTH))
            log.append((now, node.proto.body))
        elif node.kind == "bidi_component" and (frames := Frames.of(node.proto)) is not None:
            node.frames = frames
            self._log_frames(frames, now)
        element_id = getattr(node.proto, "id", "")
        if element_id and (element_id not in self.widgets
                           or getattr(node.proto, "set_value", False)):
            state = widget_state(node.kind, node.proto)
            if state is not None:
                self.widgets[element_id] = state

    def _log_frames(self, frames: Frames, now: float) -> None:
        """Log each frame not seen before at the time a tab shows it: one period after the
        frame before, or now if that is later (or the batch replaces what was playing)."""
        start = now if frames.replace else max(now, self._frames_until)
        fresh = [f for f in frames.frames if f[0] > self._frames_seen] or (
            frames.frames[-1:] if frames.replace else [])
        for i, (serial, values) in enumerate(fresh):
            self._frames_seen = max(self._frames_seen, serial)
            for label, value in zip(frames.labels, values, strict=False):
                log = self.metric_log.setdefault(label, deque(maxlen=LOG_LENGTH))
                log.append((start + i * frames.period, value))
        if fresh:
            self._frames_until = start + len(fresh) * frames.period

    def _on_script_finished(self, msg: ForwardMsg, now: float) -> None:
        status = msg.script_finished
        run = msg.metadata.run
        fragment_ids = list(run.fragment_ids)
        finished = Run(now, status, tuple(fragment_ids))
        self.runs.append(finished)
        for watcher in self._finish_watchers:
            watcher.append(finished)
        if not fragment_ids and run.script_run_id in ("", self._full_run_id):
            self.last_full_run = status
        if status == COMPILE_ERROR:
            self._error("the script did not compile")
        if run.script_run_id and status in (SUCCESS, FRAGMENT_SUCCESS) and (
                fragment_ids or run.script_run_id == self.run_id):
            self.page.clear_stale(run.script_run_id, fragment_ids)
            shown = {getattr(n.proto, "id", "") for n in self.page.elements()}
            self.widgets = {k: v for k, v in self.widgets.items() if k in shown}
        if run.script_run_id and status != EARLY and self._new_session_seen:
            self.cache.age(self.max_cached_age, fragment_ids)

    def _error(self, text: str) -> None:
        if len(self.errors) < 100 and text not in self.errors:
            self.errors.append(text)

    # -- timers --------------------------------------------------------------------------------

    def _start_timer(self, fragment_id: str, interval: float) -> None:
        if not fragment_id:
            return
        current = self._timers.get(fragment_id)
        if current is not None and current.interval == interval:
            return  # the tab keeps a timer announced again with the same interval
        self._stop_timer(fragment_id)
        if len(self._timers) >= MAX_TIMERS:
            self._error(f"more than {MAX_TIMERS} auto-rerun timers: ignored one")
            return
        task = asyncio.get_running_loop().create_task(self._tick(fragment_id, interval))
        self._timers[fragment_id] = _Timer(interval, task)

    async def _tick(self, fragment_id: str, interval: float) -> None:
        loop = asyncio.get_running_loop()
        period = max(MIN_TIMER_SECONDS, interval)
        due = loop.time() + period
        while not self._closing:
            await asyncio.sleep(max(0.0, due - loop.time()))
            if not self.timers_fire:
                due = max(due + period, loop.time())
                continue
            try:
                await self._send(self.rerun_message(fragment_id, auto=True))
            except (ConnectionClosed, RuntimeError, TimeoutError):
                return
            self.reruns_sent += 1
            self.auto_reruns_sent += 1
            due = max(due + period, loop.time())  # a late timer fires once, as setInterval does

    def _stop_timer(self, fragment_id: str) -> None:
        timer = self._timers.pop(fragment_id, None)
        if timer is not None:
            timer.task.cancel()

    def _stop_timers(self) -> None:
        for fragment_id in list(self._timers):
            self._stop_timer(fragment_id)

    @property
    def timers(self) -> dict[str, float]:
        """The fragments this visitor reruns on a timer, with their intervals."""
        return {k: t.interval for k, t in self._timers.items()}

    # -- waiting -------------------------------------------------------------------------------

    def _settle_waiters(self, now: float) -> None:
        for shows, future in self._waiters:
            if not future.done() and shows(self):
                future.set_result(now)

    async def wait_for(self, shows: Shows, timeout: float) -> float:
        """The time (``time.monotonic()``) of the message after which ``shows`` held; now if it
        holds already. Raises ``TimeoutError`` after ``timeout`` seconds."""
        if shows(self):
            return time.monotonic()
        future: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        waiter = (shows, future)
        self._waiters.append(waiter)
        try:
            return await asyncio.wait_for(future, timeout)
        except TimeoutError:
            raise TimeoutError(f"{self.name}: not shown within {timeout:g} s") from None
        finally:
            self._waiters.remove(waiter)

    async def _act(self, action: str, msg: BackMsg, shows: Shows, timeout: float) -> Answer:
        if shows(self):
            raise ValueError(f"{self.name}: {action}: the page already shows its effect")
        loop = asyncio.get_running_loop()
        full = not msg.rerun_script.fragment_id
        before = self.full_runs_started if full else self.runs_started
        started: asyncio.Future[float] = loop.create_future()
        answer: asyncio.Future[float] = loop.create_future()
        waiters: list[tuple[Shows, asyncio.Future[float]]] = [
            (lambda v: (v.full_runs_started if full else v.runs_started) > before, started),
            (shows, answer)]
        self._waiters.extend(waiters)
        try:
            sent_at = time.monotonic()
            await self._send(msg)
            self.reruns_sent += 1
            try:
                shown_at = await asyncio.wait_for(answer, timeout)
            except TimeoutError:
                shown_at = math.inf
                self._error(f"{action} not answered within {timeout:g} s")
        finally:
            for waiter in waiters:
                self._waiters.remove(waiter)
        started_at = (started.result() if started.done() and started.exception() is None
                      else math.inf)
        result = Answer(action, sent_at, started_at - sent_at, shown_at - sent_at)
        self.answers.append(result)
        return result

    # -- acting --------------------------------------------------------------------------------

    async def rerun(self, fragment_id: str = "", timeout: float = 20.0) -> Run:
        """Ask for a run as the tab's own timer or its Rerun menu does (of one fragment, or the
        whole page), with the widgets as they are; returns the run once it has finished. Raises
        ``TimeoutError`` if it does not finish within ``timeout`` seconds."""
        wanted = (fragment_id,) if fragment_id else ()
        finished: list[Run] = []
        self._finish_watchers.append(finished)
        try:
            await self._send(self.rerun_message(fragment_id))
            self.reruns_sent += 1
            await self.wait_for(lambda _v: any(r.fragment_ids == wanted for r in finished),
                                timeout)
        finally:
            self._finish_watchers.remove(finished)
        return next(r for r in finished if r.fragment_ids == wanted)

    def fragment_of(self, find: Callable[[Node], bool]) -> str:
        """The id of the fragment that drew the first element ``find`` accepts; raises
        ``LookupError`` if the page shows no such element in a fragment."""
        for node in self.page.elements():
            if node.fragment_id and find(node):
                return node.fragment_id
        raise LookupError(f"{self.name}: no such element in a fragment")

    async def click(self, label: str, shows: Shows, timeout: float = 20.0) -> Answer:
        """Press the button labelled ``label``; answered when ``shows`` holds. Raises
        ``LookupError`` if the page shows no such button, ``ValueError`` if it is disabled."""
        node = self.page.button(label)
        if node is None:
            raise LookupError(f"{self.name}: no button {label!r} on the page")
        if node.proto.disabled:
            raise ValueError(f"{self.name}: the button {label!r} is disabled")
        trigger = WidgetState(id=node.proto.id, trigger_value=True)
        return await self._act(f"click {label}", self.rerun_message(node.fragment_id,
                                                                    changed=trigger),
                               shows, timeout)

    async def change(self, key_or_label: str, value: Any, shows: Shows,
                     timeout: float = 20.0) -> Answer:
        """Set the widget with this key (or label) to ``value``, as a visitor picking it; a
        widget bound to the URL rewrites the query string as the tab does. Raises
        ``LookupError`` if there is no such widget, ``ValueError`` if it cannot take ``value``."""
        node = self.page.widget(key_or_label)
        if node is None:
            raise LookupError(f"{self.name}: no widget {key_or_label!r} on the page")
        if getattr(node.proto, "disabled", False):
            raise ValueError(f"{self.name}: the widget {key_or_label!r} is disabled")
        state = changed_state(node, value)
        self.widgets[state.id] = state
        param = getattr(node.proto, "query_param_key", "")
        if param:
            default = widget_state(node.kind, node.proto, initial=True)
            values = _url_value(state)
            same = default is not None and _url_value(default) == values
            self.query = with_param(self.query, param, [] if same else values)
        return await self._act(f"set {key_or_label} to {value!r}",
                               self.rerun_message(node.fragment_id), shows, timeout)

    # -- reading -------------------------------------------------------------------------------

    def metric(self, label: str) -> str | None:
        return self.page.metric(label)

    def number(self, label: str) -> float | None:
        """The metric ``label`` as a number ("1,234" is 1234, "93.5%" is 93.5)."""
        return parse_number(self.page.metric(label))

    def updates(self, label: str, since: float = -math.inf) -> list[tuple[float, str]]:
        """When the metric ``label`` was sent again, and its value each time."""
        return [(t, v) for t, v in self.metric_log.get(label, ()) if t >= since]

    def fragment_runs(self, since: float = -math.inf) -> list[Run]:
        return [r for r in self.runs if r.fragment_ids and r.at >= since]


def parse_number(text: str | None) -> float | None:
    if text is None:
        return None
    match = re.search(r"-?[\d,]*\.?\d+(?:e[-+]?\d+)?", text)
    return float(match[0].replace(",", "")) if match else None


# -- what to wait for --------------------------------------------------------------------------

def caption_with(text: str) -> Shows:
    """The page shows a caption containing ``text``."""
    return lambda v: v.page.caption_with(text) is not None


def metric_below(label: str, value: float) -> Shows:
    """The metric ``label`` shows a number below ``value``."""
    return lambda v: (n := v.number(label)) is not None and n < value


def metric_above(label: str, value: float) -> Shows:
    return lambda v: (n := v.number(label)) is not None and n > value


# -- driving visitors from synchronous code ----------------------------------------------------

class LoopThread:
    """An asyncio event loop on a thread of its own, for synchronous callers (pytest, Playwright's
    sync API) to run protocol visitors on: ``run`` waits for a coroutine, ``submit`` does not.
    ``cpu_seconds`` is the CPU time that thread has used: what the visitors cost."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._serve, name="protocol-visitors",
                                        daemon=True)

    def _serve(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_forever()

    def __enter__(self) -> LoopThread:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(10)
        if not self._thread.is_alive():
            self.loop.close()

    def submit(self, coro: Awaitable[T]) -> concurrent.futures.Future[T]:
        return asyncio.run_coroutine_threadsafe(coro, self.loop)  # type: ignore[arg-type]

    def run(self, coro: Awaitable[T], timeout: float) -> T:
        return self.submit(coro).result(timeout)

    def cpu_seconds(self) -> float:
        async def thread_time() -> float:
            return time.thread_time()

        return self.run(thread_time(), 10)
