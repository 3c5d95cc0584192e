"""Save and resume: download the run as a checkpoint or its history as CSV; upload to resume.

A download button's file is made when it is clicked: Streamlit calls the button's ``data``
callable after the script run, on a thread of its own, where Session State and everything else
of a run cannot be reached. So each callable is given the visitor's ``LabSession`` itself when
the button is drawn, and takes the session's lock, since a live tick may be training it at that
moment (``tests/test_downloads.py`` runs every such callable outside any run).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

import streamlit as st

from gan_core import CheckpointError, GANConfig
from gan_core.files.checkpoint import MAX_BYTES
from gan_core.serve.session import LabSession

from . import settings, your_data
from .run import notices, session
from .state import holder

UPLOAD = "upload"
UPLOAD_MB = max(1, MAX_BYTES // 2**20)


@dataclass
class SaveState:
    error: str | None = None


def panel() -> None:
    """The sidebar's *Save & resume* expander."""
    state = holder("save", SaveState)
    run = session()
    with st.sidebar.expander("Save & resume", expanded=False):
        checkpoint_button(run, key="download_checkpoint")
        st.download_button(
            "Download history (CSV)", data=partial(history_csv, run),
            file_name="gan-curve-lab-history.csv", mime="text/csv", width="stretch",
            help="Losses, D outputs, in-band fraction and W1 over steps.", on_click="ignore",
            key="download_history")
        st.file_uploader(
            "Resume from a checkpoint", type=["pt"], key=UPLOAD, on_change=_resume,
            max_upload_size=UPLOAD_MB,
            help="A file saved with 'Download checkpoint'. Anything else is refused and the "
            "current run is left as it is.")
    if state.error:
        st.sidebar.error(state.error)


def history_csv(run: LabSession) -> str:
    """The run's history as CSV, read whole under the session's lock."""
    with run.lock:
        return run.trainer.history.to_csv()


def checkpoint_button(run: LabSession, key: str) -> None:
    """Download ``run`` as a checkpoint, made when clicked (it imports torch), from the run as
    it stands then (``LabSession.checkpoint`` holds the session's lock)."""
    st.download_button(
        "Download checkpoint", data=run.checkpoint,
        file_name="gan-curve-lab.pt", mime="application/octet-stream", width="stretch",
        icon=":material/save:",
        help="Weights, optimizer and RNG state, step and history, as plain PyTorch: upload it "
        "to resume exactly where you left off, or load it in PyTorch.", on_click="ignore",
        key=key)


def _check_offered(config: GANConfig) -> None:
    missing = settings.offered(config)
    if missing:
        raise CheckpointError(f"its {', '.join(missing)} cannot be set on this page")


def _resume() -> None:
    upload = st.session_state.get(UPLOAD)
    if upload is None:
        return
    state = holder("save", SaveState)
    state.error = None
    try:
        if upload.size > MAX_BYTES:
            raise CheckpointError(f"file is larger than {UPLOAD_MB} MB: not a checkpoint")
        session().restore(upload.getvalue(), check=_check_offered)
    except CheckpointError as exc:
        state.error = f"Could not load {upload.name!r}: {exc}"
        return
    settings.show(session().config)
    your_data.adopt(session().trainer.data)
    notices().info = f"Resumed from {upload.name!r} at step {session().trainer.step:,}."
