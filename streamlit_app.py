"""The app, ``page.py``, served with a route for live refreshes: ``streamlit run
streamlit_app.py`` finds this ``st.App`` and serves both (PROTOTYPE, see ``live_feed``)."""

import streamlit as st
from starlette.routing import Route

import live_feed

app = st.App("page.py", routes=[Route("/live/{token}", live_feed.refresh)])
