"""The page's features, one module each; ``streamlit_app.py`` lays them out.

Each feature owns its widgets and the values it keeps between runs: those live in one
dataclass under one Session State key (``lab.state.holder``), so a reader knows from a module
which keys it may touch. The model, its training and every chart's data come from ``gan_core``.
"""
