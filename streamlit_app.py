"""GAN Curve Lab: watch the PyTorch tutorial's GAN learn to paint curves, live in the browser.

This file is the page, top to bottom. Each feature is a module of ``lab/``; the model, its
training and every chart's data live in ``gan_core``.
"""

from __future__ import annotations

import base64
import io

import streamlit as st
from PIL import Image

from gan_core import use_one_thread
from gan_core.views import charts
from lab import (
    controls,
    dirac,
    explainer,
    live,
    panels,
    pytorch_tab,
    run,
    save,
    settings,
    stability,
    style,
    tour,
    your_data,
)
from lab.slot import slot

use_one_thread()  # tiny matrices: one thread per session is fastest and fair


def icon_url() -> str:
    """The icon as a data: URL: a PIL image would be a media file that overlapping reruns
    can drop just as the browser asks for it."""
    png = io.BytesIO()
    Image.fromarray(charts.icon()).save(png, format="PNG")
    return "data:image/png;base64," + base64.b64encode(png.getvalue()).decode()


st.set_page_config(page_title="GAN Curve Lab", page_icon=icon_url(), layout="wide",
                   initial_sidebar_state="auto")  # collapsed on a phone, open on a desktop

settings.follow_link()
run.sync_sidebar()
config, pacing = settings.sidebar()
run.follow(config, pacing)
save.panel()

style.style()
st.title("GAN Curve Lab")
with st.container(key="intro"):
    st.caption("A generator learns to paint curves from a discriminator that learns to tell "
               "them from real ones: the PyTorch tutorial's GAN, live. Change any setting while "
               "it trains; the URL holds every setting and every live change, so a link replays "
               "the run.")
with slot(settings.link_warned() or run.has_notices()):
    settings.link_warning()
    run.show_notices()

live_tab, stability_tab, torch_tab = st.tabs(["Live training", "Stability map", "PyTorch"],
                                             key=stability.TAB, on_change="rerun")
with live_tab:
    your_data.panel(run.session().trainer)
    controls.controls()
    tour.tour()
    live.fragments()
    panels.latent_controls()
    dirac.panel(config)
    explainer.explainer()
# Only the shown tab runs: a live tick redraws the whole page.
if stability_tab.open:
    with stability_tab:
        stability.tab()
if torch_tab.open:
    with torch_tab:
        pytorch_tab.tab()
