"""What am I looking at: the page explained, with each target family's own description, and the
way back to the guided tour."""

from __future__ import annotations

import streamlit as st

from gan_core import TARGET_FAMILIES

from . import tour

AGAIN = "tour_again"
TUTORIAL = ("https://github.com/MorvanZhou/PyTorch-Tutorial/blob/master/tutorial-contents/"
            "406_GAN.py")
CONDITIONAL = ("https://github.com/MorvanZhou/PyTorch-Tutorial/blob/master/tutorial-contents/"
               "406_conditional_GAN.py")


def explainer() -> None:
    targets = "\n".join([*(f"- **{t.title}**: `{t.formula}`. {t.lesson}"
                          for t in TARGET_FAMILIES.values()),
                        "- **Your data** (target `data`): draw a band, draw curves with noise "
                        "around them, or upload a CSV file of curves, and G learns them; the "
                        "readouts then judge G in curve space (sliced W1, precision and "
                        "recall, the nearest real curve). The tutorial's own data are a band: "
                        "every parabola is a uniform blend of x² and 2x² + 1."])
    with st.expander("What am I looking at?"):
        st.markdown(
            f"**The tutorial.** This is the GAN of Morvan Zhou's PyTorch tutorial "
            f"[`406_GAN.py`]({TUTORIAL}): an *artist* paints curves `y = a·x² + (a − 1)` with "
            "`a` uniform in [1, 2], so every real curve lies between `x²` and `2x² + 1` (the "
            "orange and blue bounds).\n\n"
            "**G**, the generator, turns 5 random numbers into a 15-point curve. **D**, the "
            "discriminator, outputs the probability that a curve is real. D learns to tell "
            "them apart; G learns to fool D. At equilibrium D outputs 0.5 everywhere.\n\n"
            "**Charts.** Top left: a few real curves (grey) and G's curves (green) for fixed "
            "noise, one bold; with **Forces** on, each point of G's curves carries a short line: "
            "D's push on it, the gradient G receives through its output. Right: the parameter "
            "fitted to each generated curve against its true law. Below: losses and D's outputs "
            "with their equilibrium for the chosen loss, the push G receives (it vanishes under "
            "the tutorial's minimax loss when D wins), in-band fraction, W1 and the "
            "Jensen–Shannon divergence, each marked with your live changes and with events "
            "(mode collapse, D overpowering G, oscillation). The discriminator map colours a "
            "plane of curves by D's belief (red: real, blue: fake); beside it, the optimal D for "
            "the current G, D* = p_data / (p_data + p_g), against the D that was learned. The "
            "latent explorer moves one of G's inputs.\n\n"
            "**One network at a time.** *Train D* and *Train G* update one network alone; "
            "**Slow motion** trains a single step per tick and shows its halves: G moves along "
            "D's push, then D judges again. Paused, **Look back** shows any earlier moment, and "
            "*Resume from here* takes the run back there. **Ghost** keeps, on a live change, the "
            "run as it would have gone on without it.\n\n"
            "**Stabilizers** (sidebar, *Training*): R1 and R2 gradient penalties, the "
            "wasserstein critic with its gradient penalty, spectral normalisation of D, "
            "instance noise and one-sided label smoothing, each live. *Why it circles* shows "
            "on the two-parameter Dirac-GAN why training goes round the equilibrium and what "
            "each does about it; the stability map compares the learning-rate grid without "
            "and with R1.\n\n"
            f"**Conditional** (Model settings, or the *conditional* preset) is the tutorial's "
            f"sequel [`406_conditional_GAN.py`]({CONDITIONAL}): each real curve has a class "
            "(for the parabolas, *upper* when `(a − 1) > 0.5`, else *lower*), G gets it beside "
            "its 5 numbers and D beside the curve, and G learns to paint the class it is asked "
            "for. G's curves are coloured by the class asked for; **Class** under the latent "
            "explorer picks the class whose band is drawn full and whose discriminator map is "
            "shown, and **Label** blends G's label from one class to the other. *Class "
            "accuracy* is the share of curves that land in the band of the class asked for. "
            "(As published that file fails on torch 1.5 and later; the lab, and the script it "
            "writes, train it in the order `406_GAN.py` was corrected to: G's step, then "
            "D's.)\n\n"
            f"**Targets.**\n{targets}\n\n"
            "**Try** the *fast* preset (non-saturating loss, lr G 3e-3, β1 0), `D steps` 5, "
            "or lr 1: training diverges and pauses.")
        st.button("Take the tour again", icon=":material/tour:", key=AGAIN, on_click=tour.again,
                  type="tertiary", help="The short guided tour of what to watch, from its "
                  "first step; this browser forgets that it was dismissed.")
