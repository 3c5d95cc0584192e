"""Save and resume: download the run as a checkpoint or its history as CSV; upload to resume."""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from gan_core import CheckpointError, GANConfig
from gan_core.files.checkpoint import MAX_BYTES

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
    run = session()  # the downloads are built after the script's run, outside Session State
    with st.sidebar.expander("Save & resume", expanded=False):
        checkpoint_button(key="download_checkpoint")
        st.download_button(
            "Download history (CSV)", data=lambda: run.trainer.history.to_csv(),
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


def checkpoint_button(key: str) -> None:
    """Download the run as a checkpoint; built only when clicked (it imports torch), after the
    script's run and outside Session State: the run is taken when the button is drawn."""
    st.download_button(
        "Download checkpoint", data=session().checkpoint,
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
