"""Take the run to PyTorch: the script of the current settings, and the checkpoint to resume."""

from __future__ import annotations

import streamlit as st

from gan_core.pytorch import script

from .run import session
from .save import checkpoint_button

LOAD_IN_TORCH = """\
import torch
ckpt = torch.load("gan-curve-lab.pt", weights_only=True)
G.load_state_dict(ckpt["G"]); D.load_state_dict(ckpt["D"])
opt_G.load_state_dict(ckpt["opt_G"]); opt_D.load_state_dict(ckpt["opt_D"])
"""


def tab() -> None:
    run = session()
    config, data = run.config, run.trainer.data
    try:
        code, why = script(config, data), ""
    except ValueError as exc:  # a run no script is written for: the checkpoint still holds it
        code, why = "", str(exc)
    table = data is not None and data.kind == "rows"
    file = f" --data {data.name if data.name.endswith('.csv') else 'FILE.csv'}" if table else ""
    left, right = st.columns([3, 2], gap="large")
    with right:
        st.markdown(
            "**Your run as a PyTorch script.** The tutorial's own code and names (`G`, `D`, "
            "`opt_G`, `opt_D`, " + ("`artist_works_with_labels`, `G_inputs`, `D_inputs0`: "
                                    "the conditional `406_conditional_GAN.py`, in the order "
                                    "`406_GAN.py` was corrected to, since the published "
                                    "order fails on torch 1.5 and later), "
                                    if config.conditional else "`artist_works`), ")
            + "written for the settings in the sidebar: change one and the script follows. It "
            "needs only torch and numpy.")
        if why:
            st.info(f"No script for this run: {why}", icon=":material/code_off:")
        else:
            st.download_button("Download run.py", code, file_name="run.py",
                               mime="text/x-python", icon=":material/download:",
                               on_click="ignore", key="download_script", width="stretch",
                               type="primary")
            save = "" if data is not None else "\npython run.py --steps 10000 --save trained.pt"
            st.code(f"python run.py --steps 10000{file}\n"
                    f"python run.py --steps 10000{file} --resume gan-curve-lab.pt{save}",
                    language="bash", wrap_lines=True)
            if data is None:
                st.caption("`--save` writes the trained run as a checkpoint: upload it under "
                           "*Save & resume* to watch it in the lab, at the step the script "
                           "reached.")
        if data is not None and code:
            st.caption("Your curves are in the script: a drawn band's or drawn curves' values "
                       "are written into `artist_works()`." if not table else
                       "Your curves come from the CSV file you give with `--data`, read as "
                       "the page read it (its header and leading columns skipped).")
        st.markdown(
            "**The checkpoint is plain PyTorch.** `torch.load(..., weights_only=True)` opens "
            "it into `G` and `D` state dicts for the tutorial's modules, `opt_G` and `opt_D` "
            "optimizer states, the config, the step and the run's history. With `G`, `D`, "
            "`opt_G` and `opt_D` built as in the script, four lines resume it:")
        st.code(LOAD_IN_TORCH, language="python", wrap_lines=True)
        checkpoint_button(run, key="download_checkpoint_pytorch")
        st.caption(f"Step {run.trainer.step:,} of this run: the script's `--resume` "
                   "carries on from there.")
    with left:
        if code:
            # Long lines wrap: the column is narrower than the script's widest line, and a
            # horizontal scroll bar at the foot of a tall block is out of sight.
            st.code(code, language="python", line_numbers=True, height=620, wrap_lines=True)
