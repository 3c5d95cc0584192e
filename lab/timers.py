"""A fragment's timer, restarted from one of its own runs rather than by a full run of the page.

``st.fragment(run_every=...)`` tells the browser a fragment's interval (an ``auto_rerun``
message) where the page declares the fragment: on a full run. The browser keeps one timer per
fragment and starts it again whenever it is told another interval for it (Streamlit 1.67's
``App.handleAutoRerun``), until the next full run. So when the crowd changes a run's period,
the live view sends that message from the fragment's own run: a full run of every playing page
at once would cost each a page's worth of server time just as the server is busiest.

Streamlit has no public call for this: it is the message ``st.fragment`` itself sends, through
the same script-run context.
"""

from __future__ import annotations

from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.runtime.scriptrunner_utils.script_run_context import (
    ThreadState,
    get_script_run_ctx,
)


def running_fragment() -> str | None:
    """The id of the fragment whose code is running now (None outside any fragment)."""
    return ThreadState.get().fragment_id


def restart(fragment_id: str, interval: float) -> None:
    """Make the browser rerun ``fragment_id`` every ``interval`` seconds from now on."""
    if not interval > 0:
        raise ValueError(f"a timer's interval must be > 0 s, not {interval!r}")
    ctx = get_script_run_ctx()
    if ctx is None:
        raise RuntimeError("a timer is restarted from a run of the page")
    msg = ForwardMsg()
    msg.auto_rerun.interval = interval
    msg.auto_rerun.fragment_id = fragment_id
    ctx.enqueue(msg)
