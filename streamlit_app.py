"""GAN Curve Lab: watch the PyTorch tutorial's GAN learn to paint curves, live in the browser.

This file lays out widgets and charts only. The model, its training and every chart's data
live in ``gan_core``; each setting's widget, help text, range and URL key come from
``GANConfig``'s field metadata.
"""

from __future__ import annotations

import base64
import io
import math
import time
from typing import Any

import streamlit as st
from PIL import Image

from gan_core import PRESETS, CheckpointError, GANConfig, Param, use_one_thread
from gan_core import charts as ch
from gan_core.batched import AXIS_FIELDS, Axis
from gan_core.checkpoint import MAX_BYTES
from gan_core.config import GROUPS, field_type
from gan_core.losses import equilibrium
from gan_core.session import Change, LabSession, SweepRun

use_one_thread()  # tiny matrices: one thread per session is fastest and fair

DEFAULTS = GANConfig()
PARAMS = GANConfig.params()
UPLOAD_MB = max(1, MAX_BYTES // 2**20)


def icon_url() -> str:
    """The icon as a data: URL: a PIL image would be a media file that overlapping reruns
    can drop just as the browser asks for it."""
    png = io.BytesIO()
    Image.fromarray(ch.icon()).save(png, format="PNG")
    return "data:image/png;base64," + base64.b64encode(png.getvalue()).decode()


st.set_page_config(page_title="GAN Curve Lab", page_icon=icon_url(), layout="wide",
                   initial_sidebar_state="expanded")


# -- settings: one widget per GANConfig field, bound to the URL --------------------------------

def _fmt(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def offered(name: str, value: Any) -> bool:
    """Can the page's widget for ``name`` show ``value``?"""
    param = PARAMS[name]
    return value in param.choices if param.choices else (not param.log or value in param.grid())


def setting_widget(name: str, param: Param) -> Any:
    """The widget for one setting, keyed by the field's name: a link, a preset or a loaded run
    sets it through Session State. Its default is the config's, so the URL holds only the
    settings that differ from it."""
    default = getattr(DEFAULTS, name)
    common: dict[str, Any] = {"label": param.label, "help": param.help, "key": name,
                              "bind": "query-params"}
    if param.choices:
        # Options show as their config values: Streamlit writes a selectbox's displayed text
        # into the URL, and the URL must hold values that GANConfig.from_mapping accepts.
        return st.selectbox(options=param.choices, index=param.choices.index(default),
                            **common)
    if param.log:
        return st.select_slider(options=param.grid(), value=default, format_func=_fmt,
                                **common)
    if name == "seed":
        return st.number_input(min_value=int(param.low), max_value=int(param.high),
                               value=default, step=1, **common)
    if field_type(name) is int:
        return st.slider(min_value=int(param.low), max_value=int(param.high), value=default,
                         step=1, **common)
    digits = max(0, -math.floor(math.log10(param.step)))
    return st.slider(min_value=param.low, max_value=param.high, value=default, step=param.step,
                     format=f"%.{digits}f", **common)


def read_link() -> tuple[dict[str, Any], dict[str, str]]:
    """The settings in the page's URL, parsed by ``GANConfig.from_mapping``, and what in it
    cannot be used, by key (an unusable setting falls back to its default)."""
    values: dict[str, Any] = {}
    problems: dict[str, str] = {}
    for key in st.query_params:
        if key not in PARAMS:
            problems[key] = f"unknown setting {key!r}"
            continue
        raw = st.query_params[key]
        try:
            value = getattr(GANConfig.from_mapping({key: raw}), key)
        except ValueError as exc:
            problems[key], values[key] = str(exc), getattr(DEFAULTS, key)
            continue
        if not offered(key, value):
            problems[key] = f"{key}: {raw!r} is not one of the values the slider offers"
            value = getattr(DEFAULTS, key)
        values[key] = value
    return values, problems


def load_into_widgets(config: GANConfig) -> None:
    """Set every setting's widget (and so the URL) to ``config``; call from a callback."""
    for name, value in config.to_mapping().items():
        st.session_state[name] = value


def on_preset() -> None:
    preset = PRESETS[st.session_state.preset]
    load_into_widgets(preset.replace(seed=st.session_state.get("seed", preset.seed)))


def sidebar() -> GANConfig:
    st.sidebar.title("Settings")
    st.sidebar.selectbox(
        "Preset", list(PRESETS), key="preset", on_change=on_preset,
        help="tutorial: the original 406_GAN.py settings. fast: reaches the tutorial's "
        "10,000-step quality in 2,000 steps. best: the lowest W1 found.")
    values = {}
    for group in GROUPS:
        with st.sidebar.expander(group, expanded=group in ("Training", "Run")):
            for name, param in PARAMS.items():
                if param.group == group:
                    values[name] = setting_widget(name, param)
    return GANConfig(**values)


# -- session state ------------------------------------------------------------------------------

def lab() -> LabSession:
    return st.session_state.lab


def announce(change: Change) -> None:
    if change.kind == "live":
        what = ", ".join(f"{PARAMS[n].label} {_fmt(change.before[n])} → "
                         f"{_fmt(getattr(lab().config, n))}" for n in change.fields)
        st.toast(f"Applied live: {what}", icon=":material/tune:")
    elif change.kind == "fresh":
        labels = ", ".join(PARAMS[n].label.lower() for n in change.fields
                           if not PARAMS[n].live)
        st.session_state.notice = f"New model: {labels} changed, so training starts over."


def shown_on_page(config: GANConfig) -> None:
    bad = [n for n, v in config.to_mapping().items() if not offered(n, v)]
    if bad:
        raise CheckpointError(f"its {', '.join(bad)} cannot be set on this page")


def on_upload() -> None:
    upload = st.session_state.get("upload")
    if upload is None:
        return
    st.session_state.upload_error = None
    try:
        if upload.size > MAX_BYTES:
            raise CheckpointError(f"file is larger than {UPLOAD_MB} MB: not a checkpoint")
        lab().restore(upload.getvalue(), check=shown_on_page)
    except CheckpointError as exc:
        st.session_state.upload_error = f"Could not load {upload.name!r}: {exc}"
        return
    load_into_widgets(lab().config)
    st.session_state.notice = f"Resumed from {upload.name!r} at step {lab().trainer.step:,}."


def save_panel() -> None:
    with st.sidebar.expander("Save & resume", expanded=False):
        st.download_button(
            "Download checkpoint", data=lambda: lab().checkpoint(),
            file_name="gan-curve-lab.pt", mime="application/octet-stream", width="stretch",
            help="Weights, optimizer and RNG state, step and history: upload it to resume "
            "exactly where you left off.", on_click="ignore", key="download_ckpt")
        st.download_button(
            "Download history (CSV)", data=lambda: lab().trainer.history.to_csv(),
            file_name="gan-curve-lab-history.csv", mime="text/csv", width="stretch",
            help="Losses, D outputs, in-band fraction and W1 over steps.", on_click="ignore",
            key="download_csv")
        st.file_uploader(
            "Resume from a checkpoint", type=["pt"], key="upload", on_change=on_upload,
            max_upload_size=UPLOAD_MB,
            help="A file saved with 'Download checkpoint'. Anything else is refused and the "
            "current run is left as it is.")
    if st.session_state.get("upload_error"):
        st.sidebar.error(st.session_state.upload_error)


# -- controls -------------------------------------------------------------------------------

def controls() -> None:
    session = lab()
    buttons = [  # label, icon, callback, disabled, help
        ("Play", "play_arrow", session.play, session.playing,
         "Train continuously, a chunk per tick."),
        ("Pause", "pause", session.pause, not session.playing,
         "Stop training; everything on screen stays."),
        ("Step", "skip_next", lambda: session.advance(budget=math.inf), False,
         "Train one chunk (steps per tick) and stop."),
        ("Reset", "restart_alt", on_reset, False,
         "Start a fresh model from the current settings and seed."),
    ]
    *cols, status = st.columns([1, 1, 1, 1, 4], vertical_alignment="center")
    for col, (label, icon, callback, disabled, help_text) in zip(cols, buttons, strict=True):
        col.button(label, icon=f":material/{icon}:", key=label.lower(), on_click=callback,
                   disabled=disabled, help=help_text, width="stretch",
                   type="primary" if label == "Play" else "secondary")
    cfg = session.config
    shared = (" (slowed down: other visitors are playing on this server)"
              if session.period > cfg.tick_seconds else "")
    status.caption(
        f"{'Playing' if session.playing else 'Paused'} · {session.steps_per_refresh} steps "
        f"every {session.period:g} s{shared} · target: {session.trainer.target.title} · loss: "
        f"{cfg.loss.replace('_', ' ')} · lr G {cfg.lr_g:g} / D {cfg.lr_d:g}")


def on_reset() -> None:
    lab().reset()
    st.session_state.notice = None


# -- the live view ---------------------------------------------------------------------------

def chart(spec: dict, data: dict, key: str) -> None:
    with st.container(key=key):  # a stable CSS class (st-key-...) for the browser tests
        st.vega_lite_chart(ch.with_data(spec, data), key=key, width="stretch")


def readouts(session: LabSession) -> None:
    m = session.trainer.evaluate()
    d_eq = -equilibrium(session.config.loss)[0]
    cols = st.columns(5)
    cols[0].metric("Step", f"{session.trainer.step:,}", help="Generator updates so far.")
    cols[1].metric("D accuracy", f"{m.d_real:.3f}",
                   help="Mean D(real): D's probability that a real curve is real. Target 0.5, "
                   "where D can no longer tell (the tutorial's 'D accuracy').")
    cols[2].metric("D score", f"{m.d_score:.3f}",
                   help=f"-D_loss (the tutorial's 'D score'). Target {d_eq:.3f} for this loss "
                   "(-log 4 = -1.386 for minimax), where D is reduced to guessing.")
    cols[3].metric("In band", f"{100 * m.in_band:.1f}%",
                   help="Share of generated points inside the target's envelope (±0.05). "
                   "Target 100%; the tutorial reaches ~94% after 10,000 steps.")
    cols[4].metric("W1", f"{m.w1:.3f}",
                   help="Wasserstein-1 distance between the fitted parameter of 1,000 "
                   "generated curves and its true law. 0 is perfect; sampling noise alone "
                   "gives ~0.01. The tutorial reaches ~0.05 after 10,000 steps.")


# The panels under the curves refresh at most this often: their redraw is most of a page's
# work, and losses, maps and the latent sweep read fine at one frame a second.
PANEL_SECONDS = 1.0


def live_view() -> None:
    """The fast part of the live view: a chunk of training, the readouts and the curves."""
    started = time.perf_counter()
    session = lab()
    was_playing = session.playing
    steps = session.tick()
    if was_playing and not session.playing:
        st.rerun()  # divergence paused training: redraw the controls and stop the timers
    if session.playing and session.period != st.session_state.get("timer"):
        st.rerun()  # the crowd grew or shrank: restart the timers at the new period
    with session.lock:
        trainer = session.trainer
        target = trainer.config.target
        readouts(session)
        timing = st.empty()
        left, right = st.columns([3, 2])
        with left:
            st.markdown("##### The generator's curves inside the bounds")
            chart(ch.curves_spec(target), ch.curves_data(trainer), "curves")
        with right:
            chart(ch.distribution_spec(target), ch.distribution_data(trainer), "distribution")
    elapsed = time.perf_counter() - started
    st.session_state.last_tick = (steps, elapsed)
    timing.caption(f"Last refresh: {steps} training steps, readouts and curves in "
                   f"{1000 * elapsed:.0f} ms on the server.")


def panels_view() -> None:
    """The slower part: training history, discriminator map and latent explorer."""
    session = lab()
    with session.lock:
        trainer = session.trainer
        target = trainer.config.target
        for col, panel in zip(st.columns(4), ch.HISTORY_PANELS, strict=True):
            with col:
                chart(ch.history_spec(panel, trainer.config.loss),
                      ch.history_data(trainer.history, panel), f"history_{panel}")
        left, right = st.columns(2)
        with left:
            st.markdown("##### Discriminator map")
            chart(ch.discriminator_spec(target), ch.discriminator_data(trainer), "dmap")
        with right:
            st.markdown("##### Latent explorer")
            a, b = st.columns(2)
            dim = a.selectbox("Latent direction", range(trainer.config.latent_dim),
                              format_func=lambda i: f"z[{i}]", key="latent_dim_view",
                              help="Which input of G to move; the others stay fixed.")
            pos = b.slider("Position", -2.5, 2.5, 0.0, 0.25, key="latent_pos",
                           help="Value of the chosen input; its curve is drawn bold.")
            chart(ch.latent_spec(target), ch.latent_data(trainer, dim, pos), "latent")


def explainer() -> None:
    with st.expander("What am I looking at?"):
        st.markdown(
            "**The tutorial.** This is the GAN of Morvan Zhou's PyTorch tutorial "
            "[`406_GAN.py`](https://github.com/MorvanZhou/PyTorch-Tutorial/blob/master/"
            "tutorial-contents/406_GAN.py): an *artist* paints curves "
            "`y = a·x² + (a − 1)` with `a` uniform in [1, 2], so every real curve lies "
            "between `x²` and `2x² + 1` (the orange and blue bounds).\n\n"
            "**G**, the generator, turns 5 random numbers into a 15-point curve. **D**, the "
            "discriminator, outputs the probability that a curve is real. D learns to tell "
            "them apart; G learns to fool D. At equilibrium D outputs 0.5 everywhere.\n\n"
            "**Charts.** Top left: a few real curves (grey) and G's curves (green) for fixed "
            "noise, one bold. Right: the `a` fitted to each generated curve against its true "
            "law. Below: losses and D's outputs with their equilibrium values, and two "
            "quality measures. The discriminator map colours every curve `c2·x² + c0` by "
            "D's belief (red: real, blue: fake), with real and generated curves as points. "
            "The latent explorer moves one of G's inputs.\n\n"
            "**Targets.** *Two bands* leaves a gap in `a` that G must not fill (watch for "
            "mode collapse); *sine* has two parameters, amplitude and phase.\n\n"
            "**Try** the *fast* preset (non-saturating loss, lr G 3e-3, β1 0), `D steps` 5, "
            "or lr 1: training diverges and pauses.")


# -- stability map ------------------------------------------------------------------------------

SWEEP_STEPS = (500, 1000, 2000, 5000, 10000)


def sweep() -> SweepRun | None:
    return st.session_state.get("sweep")


def axis_widgets(field: str, prefix: str, default_n: int) -> Axis:
    """Widgets for the values of one grid axis; raises ``ValueError`` for a bad choice."""
    param = PARAMS[field]
    if field == "loss":
        st.caption("All four losses.")
        return Axis.losses()
    n = st.slider("Cells", 2, 8, default_n, key=f"{prefix}_n",
                  help="How many values along this axis.")
    if field == "seed":
        return Axis.seeds(n, start=lab().config.seed)
    if param.log:
        lo, hi = st.select_slider(f"{field} range", options=param.grid(), value=(1e-5, 1e-2),
                                  format_func=_fmt, key=f"{prefix}_range",
                                  help="Values spread evenly on a log scale, taken from the "
                                  "sidebar's own, so any cell can be loaded there.")
        return Axis(field, param.spread(lo, hi, n))
    lo, hi = st.slider(f"{field} range", param.low, param.high, (param.low, param.high),
                       step=param.step, key=f"{prefix}_range")
    return Axis.linear(field, lo, hi, n)


def on_run_sweep(x_axis: Axis, y_axis: Axis | None, seeds: int, steps: int) -> None:
    st.session_state.sweep_error = None
    try:
        st.session_state.sweep = SweepRun(lab().config, x_axis, y_axis, seeds, steps)
    except ValueError as exc:
        st.session_state.sweep_error = str(exc)


def on_cell_pick() -> None:
    picked = st.session_state.stability_map.selection.get("cell") or []
    run = sweep()
    if not picked or run is None:
        return
    config = run.cell_config(int(picked[0]["ix"]), int(picked[0].get("iy", 0))).replace(
        steps_per_tick=lab().config.steps_per_tick, tick_seconds=lab().config.tick_seconds)
    lab().reset(config)
    load_into_widgets(config)
    shown = ", ".join(f"{PARAMS[f].label.lower()} {_fmt(getattr(config, f))}"
                      for f in config.changed_fields(DEFAULTS) if f in AXIS_FIELDS)
    st.session_state.notice = (f"Loaded the cell ({shown or 'defaults'}) into the live "
                               "trainer as a fresh run. Press Play to watch it.")
    st.session_state.view = "Live training"
    st.session_state.reload_page = True


def stability_tab() -> None:
    st.markdown("Train a grid of GANs side by side, from the live trainer's settings, and map "
                "where training works. **Click a cell** to load its settings into the live "
                "trainer (and the URL).")
    left, right, run_col = st.columns([2, 2, 1.3])
    with left:
        x_field = st.selectbox("X axis", AXIS_FIELDS, key="sweep_x",
                               format_func=lambda f: PARAMS[f].label)
        x_axis = axis_widgets(x_field, "sweep_x", 6)
    with right:
        y_field = st.selectbox("Y axis", ("none", *AXIS_FIELDS), index=2, key="sweep_y",
                               format_func=lambda f: "none" if f == "none" else PARAMS[f].label)
        y_axis = axis_widgets(y_field, "sweep_y", 6) if y_field != "none" else None
    with run_col:
        seeds = st.slider("Seeds per cell", 1, 4, 1, key="sweep_seeds",
                          help="Independent runs per cell; the map shows their mean.")
        steps = st.select_slider("Steps", SWEEP_STEPS, 2000, key="sweep_steps",
                                 help="Training steps for every GAN of the grid.")
        st.button("Run", icon=":material/grid_on:", type="primary", key="sweep_run",
                  width="stretch", on_click=on_run_sweep, args=(x_axis, y_axis, seeds, steps),
                  help="Train the whole grid in one vectorised pass per chunk.")
        running = sweep() is not None and sweep().running
        st.button("Stop", icon=":material/stop:", key="sweep_stop", width="stretch",
                  disabled=not running, on_click=lambda: sweep().stop())
    if st.session_state.get("sweep_error"):
        st.error(st.session_state.sweep_error)
    metric = st.segmented_control(
        "Colour by", list(ch.STABILITY_METRICS), default="w1", key="sweep_metric",
        format_func=lambda m: ch.STABILITY_METRICS[m][0], required=True)
    st.fragment(run_every=0.5 if running else None)(stability_view)(metric)


def stability_view(metric: str) -> None:
    if st.session_state.pop("reload_page", False):
        st.rerun()  # a picked cell changed the sidebar: redraw the whole page
    run = sweep()
    if run is None:
        st.info("Choose the axes and press Run. The default grid (6 x 6 learning rates, "
                "2,000 steps) takes about 20 seconds.", icon=":material/grid_on:")
        return
    was_running = run.running
    run.tick()
    with run.lock:
        grid = run.grid
        members = f"{grid.members} GANs" if grid.members > 1 else "1 GAN"
        st.progress(min(1.0, grid.step / run.steps),
                    text=f"{members}, step {grid.step:,} of {run.steps:,}"
                    + ("" if run.running else " · done" if run.done else " · stopped"))
        y_field = grid.y_axis.field if grid.y_axis is not None else None
        st.vega_lite_chart(
            ch.with_data(ch.stability_spec(metric, grid.x_axis.field, y_field),
                         ch.stability_data(run.cells, metric)),
            key="stability_map", on_select=on_cell_pick, selection_mode="cell",
            width="stretch")
    if was_running and not run.running:
        st.rerun()  # finished: stop the timer and re-enable the controls


# -- page --------------------------------------------------------------------------------------

def main() -> None:
    # Streamlit seeds URL-bound widgets on the first run by its own rules: it coerces some
    # garbage (seed=1.5 becomes 1) and drops values not spelled like an option (lr_g=1e-4).
    # The link means what GANConfig.from_mapping says, so a second run sets every setting it
    # names before any model is built.
    if "url_problems" not in st.session_state:
        st.session_state.link_values, st.session_state.url_problems = read_link()
    elif st.session_state.link_values:
        st.session_state.update(st.session_state.link_values)
        st.session_state.link_values = {}
    config = sidebar()
    if st.session_state.link_values:
        st.rerun()
    save_panel()
    if "lab" not in st.session_state:
        st.session_state.lab = LabSession(config)
    announce(lab().apply(config))

    st.title("GAN Curve Lab")
    st.caption("A generator learns to paint curves from a discriminator that learns to tell "
               "them from real ones: the PyTorch tutorial's GAN, live. Change any setting "
               "while it trains; the URL holds them all, so a link reproduces the run.")
    if st.session_state.url_problems:
        ignored = "; ".join(st.session_state.url_problems.values())
        st.warning(f"Some settings in the link were ignored: {ignored}.",
                   icon=":material/link_off:")
    if st.session_state.get("notice"):
        st.info(st.session_state.notice, icon=":material/info:")
    if lab().diverged is not None:
        st.warning(
            f"Training diverged at step {lab().diverged.step:,}: the losses or the generated "
            "curves blew up, so training paused and the last finite state is shown. Lower "
            "the learning rates (1e-3 or less usually works) and press Play, or press Reset.",
            icon=":material/warning:")
    live, stability = st.tabs(["Live training", "Stability map"], key="view",
                              on_change="rerun")
    with live:
        controls()
        timer = st.session_state.timer = lab().period if lab().playing else None
        st.fragment(run_every=timer)(live_view)()
        st.fragment(run_every=timer and max(PANEL_SECONDS, 2 * timer))(panels_view)()
        explainer()
    if stability.open:  # only the shown tab runs: a live refresh redraws the whole page
        with stability:
            stability_tab()


main()
