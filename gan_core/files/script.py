"""A run written out as a standalone PyTorch script in the tutorial's own style and names.

Writing the script needs no torch: the page can show it without paying for the import.
"""

from __future__ import annotations

import json
import math
from string import Template
from typing import TYPE_CHECKING

from ..gan.losses import equilibrium
from ..gan.targets import QuadraticFamily, SineFamily, Target, Uniforms, get_target

if TYPE_CHECKING:
    from ..gan.config import GANConfig

TUTORIAL_URL = ("https://github.com/MorvanZhou/PyTorch-Tutorial/blob/master/"
                "tutorial-contents/406_GAN.py")
REPORT_EVERY = 500
"""The script prints the tutorial's "D accuracy" and "D score" every this many steps."""


def script(config: GANConfig) -> str:
    """A self-contained Python script, in the tutorial's style and names, that trains the run
    ``config`` describes with torch and numpy alone: ``python run.py --steps N [--resume
    checkpoint.pt] [--save checkpoint.pt]``. ``--save`` writes a checkpoint the lab's upload
    takes (``gan_core.files.checkpoint``), so a run goes from the lab to PyTorch and back.

    Only what the config uses is written (one loss, one optimizer, one target's
    ``artist_works``), with its values as literals, so the script reads as the tutorial does.
    Executing it only builds ``G``, ``D``, ``opt_G``, ``opt_D`` and the functions; ``main()``
    trains. ``train_step()`` draws its batches through ``artist_works()`` and then
    ``new_ideas()``, as the engine draws real curves and then noise, so a test can feed it the
    engine's batches and hold the script's own training code to the engine's weights.
    """
    target = get_target(config.target)
    blocks = [
        _HEADER.substitute(url=TUTORIAL_URL, target=target.title,
                           loss=_LOSS_TEXT[config.loss], seed=config.seed) + _constants(config),
        _artist_works(target),
        _NEW_IDEAS,
        _networks(config),
        _training(config),
        _REPORT.substitute(d_real=f"{_converged_d_real(config.loss):.2f}",
                           d_score=f"{-equilibrium(config.loss)[0]:.2f}"),
        _RESUME.substitute(_RESUME_OPTIMIZER[config.optimizer]),
        _save(config),
        _MAIN.substitute(every=REPORT_EVERY, updates_d="D_STEPS * " if config.d_steps > 1
                         else ""),
    ]
    return "\n\n\n".join(block.strip("\n") for block in blocks) + "\n"


def _aligned(code: str, comment: str, column: int = 24) -> str:
    """A line with its comment at ``column``, as the tutorial aligns them (two spaces after
    code that reaches it)."""
    return f"{code.ljust(column - 2)}  # {comment}"


def _number(value: float) -> str:
    """A float as the script spells it: exact, whole numbers without ``.0`` and simple
    fractions of pi as ``np.pi / k``."""
    if value == int(value):
        return str(int(value))
    for den in (1, 2, 3, 4, 6):
        num = round(value * den / math.pi)
        if num and num * math.pi / den == value:
            return ("" if num == 1 else f"{num} * ") + "np.pi" + ("" if den == 1 else f" / {den}")
    return repr(value)


def _converged_d_real(loss: str) -> float:
    """Mean D(real) when D cannot tell real from fake: LSGAN's optimal D outputs 1/2 before
    the Sigmoid, the others 0."""
    return 1 / (1 + math.exp(-0.5)) if loss == "least_squares" else 0.5


_LOSS_TEXT = {
    "minimax": "the tutorial's, G minimises log(1 - D(G(z)))",
    "non_saturating": "non-saturating, G minimises -log D(G(z))",
    "least_squares": "least squares (LSGAN), on D's raw output",
    "hinge": "hinge, on D's raw output",
}

_HEADER = Template('''"""
The GAN of Morvan Zhou's PyTorch tutorial 406_GAN.py, written out by GAN Curve Lab with one
run's settings, in the tutorial's names. It needs only torch and numpy.
$url

Real curves: $target (see artist_works)
Loss: $loss

    python run.py --steps 10000                            # train from scratch
    python run.py --steps 10000 --resume gan-curve-lab.pt  # go on from a saved run
    python run.py --steps 10000 --save trained.pt          # then watch it in the lab
"""
import argparse
import sys

import numpy as np
import torch
import torch.nn as nn

torch.set_num_threads(1)  # the networks are tiny: one thread is fastest
torch.manual_seed($seed)    # reproducible
np.random.seed($seed)

''')


def _constants(config: GANConfig) -> str:
    lines = [
        "# Hyper Parameters",
        f"BATCH_SIZE = {config.batch_size}",
        _aligned(f"LR_G = {config.lr_g!r}", "learning rate for generator"),
        _aligned(f"LR_D = {config.lr_d!r}", "learning rate for discriminator"),
    ]
    if config.optimizer == "adam" and _custom_betas(config):
        lines.append(_aligned(f"BETAS = ({config.beta1!r}, {config.beta2!r})",
                              "Adam's decay rates of its moment estimates"))
    if config.optimizer == "sgd":
        lines.append(_aligned(f"MOMENTUM = {config.momentum!r}", "SGD's momentum"))
    if config.d_steps > 1:
        lines.append(_aligned(f"D_STEPS = {config.d_steps}", "updates of D per update of G"))
    lines += [
        _aligned(f"N_IDEAS = {config.latent_dim}",
                 "think of this as number of ideas for generating an art work (Generator)"),
        _aligned(f"ART_COMPONENTS = {config.n_points}",
                 "it could be total point G can draw in the canvas"),
        "PAINT_POINTS = np.vstack([np.linspace(-1, 1, ART_COMPONENTS) "
        "for _ in range(BATCH_SIZE)])",
    ]
    return "\n".join(lines)


def _custom_betas(config: GANConfig) -> bool:
    """Adam's betas differ from torch's defaults, which the tutorial leaves unsaid."""
    return (config.beta1, config.beta2) != (0.9, 0.999)


def _draw(name: str, law: Uniforms) -> list[str]:
    """Lines that draw ``name`` from ``law`` for every curve of a batch, as a column."""
    if len(law.ranges) == 1:
        low, high = law.ranges[0]
        return [f"    {name} = np.random.uniform({_number(low)}, {_number(high)}, "
                "size=BATCH_SIZE)[:, np.newaxis]"]
    ranges = ", ".join(f"[{_number(low)}, {_number(high)}]" for low, high in law.ranges)
    return [
        _aligned(f"    ranges = np.array([{ranges}])", f"{name} lies in one, each as likely",
                 48),
        _aligned("    low, high = ranges[np.random.randint(len(ranges), size=BATCH_SIZE)].T",
                 "each curve's range"),
        f"    {name} = np.random.uniform(low, high)[:, np.newaxis]",
    ]


def _artist_works(target: Target) -> str:
    """The tutorial's ``artist_works``, drawing ``target``'s family: the same laws of the same
    parameters and the same formula as ``target.sample``."""
    if isinstance(target, QuadraticFamily):
        (law,) = target.param_laws()
        body = [*_draw("a", law), "    paintings = a * np.power(PAINT_POINTS, 2) + (a - 1)"]
    elif isinstance(target, SineFamily):
        amplitude, phase = target.param_laws()
        body = [*_draw("amplitude", amplitude), *_draw("phase", phase),
                "    paintings = amplitude * np.sin(np.pi * PAINT_POINTS + phase)"]
    else:
        raise ValueError(f"no script is written for target {target.name!r}")
    return "\n".join([
        _aligned("def artist_works():", "painting from the famous artist (real target)"),
        *body,
        "    paintings = torch.from_numpy(paintings).float()",
        "    return paintings",
    ])


_NEW_IDEAS = """\
def new_ideas():        # random ideas for G to paint from (normal distribution)
    return torch.randn(BATCH_SIZE, N_IDEAS)"""


def _networks(config: GANConfig) -> str:
    h = config.hidden
    lines = [
        _aligned("G = nn.Sequential(", "Generator", 40),
        _aligned(f"    nn.Linear(N_IDEAS, {h}),",
                 "random ideas (could from normal distribution)", 40),
        "    nn.ReLU(),",
        _aligned(f"    nn.Linear({h}, ART_COMPONENTS),",
                 "making a painting from these random ideas", 40),
        ")",
        "",
        _aligned("D = nn.Sequential(", "Discriminator", 40),
        _aligned(f"    nn.Linear(ART_COMPONENTS, {h}),",
                 "receive art work from the famous artist or a newbie like G", 40),
        "    nn.ReLU(),",
        f"    nn.Linear({h}, 1),",
        _aligned("    nn.Sigmoid(),",
                 "tell the probability that the art work is made by artist", 40),
        ")",
    ]
    if config.loss in ("least_squares", "hinge"):
        lines.append(_aligned("D_logit = D[:-1]",
                              "D without its Sigmoid: its raw output, which this loss uses"))
    if config.optimizer == "sgd":
        make = "torch.optim.SGD({}.parameters(), lr={}, momentum=MOMENTUM)"
    elif _custom_betas(config):
        make = "torch.optim.Adam({}.parameters(), lr={}, betas=BETAS)"
    else:
        make = "torch.optim.Adam({}.parameters(), lr={})"
    lines += ["", f"opt_D = {make.format('D', 'LR_D')}", f"opt_G = {make.format('G', 'LR_G')}"]
    return "\n".join(lines)


def _step_line(code: str, comment: str) -> str:
    return _aligned(f"    {code}", comment, 48)


_G_LOSS = {
    "minimax": [
        _step_line("prob_artist1 = D(G_paintings)", "D try to reduce this prob"),
        "    G_loss = torch.mean(torch.log(1. - prob_artist1))",
    ],
    "non_saturating": [
        _step_line("prob_artist1 = D(G_paintings)", "G tries to raise this prob"),
        "    G_loss = -torch.mean(torch.log(prob_artist1))",
    ],
    "least_squares": [
        _step_line("logit_artist1 = D_logit(G_paintings)", "G wants D to say 1 here"),
        "    G_loss = 0.5 * torch.mean((logit_artist1 - 1) ** 2)",
    ],
    "hinge": [
        _step_line("logit_artist1 = D_logit(G_paintings)", "G tries to raise this"),
        "    G_loss = -torch.mean(logit_artist1)",
    ],
}

_D_LOSS_LOG = [
    _step_line("prob_artist0 = D(artist_paintings)", "D try to increase this prob"),
    _step_line("prob_artist1 = D(G_paintings.detach())", "D try to reduce this prob"),
    "    D_loss = - torch.mean(torch.log(prob_artist0) + torch.log(1. - prob_artist1))",
]
_D_LOSS = {
    "minimax": _D_LOSS_LOG,
    "non_saturating": _D_LOSS_LOG,
    "least_squares": [
        _step_line("logit_artist0 = D_logit(artist_paintings)", "D wants to say 1 here"),
        _step_line("logit_artist1 = D_logit(G_paintings.detach())", "and 0 here"),
        "    D_loss = (0.5 * torch.mean((logit_artist0 - 1) ** 2)",
        "              + 0.5 * torch.mean(logit_artist1 ** 2))",
        _step_line("prob_artist0 = torch.sigmoid(logit_artist0)", "D(real), for the report"),
    ],
    "hinge": [
        _step_line("logit_artist0 = D_logit(artist_paintings)", "D wants at least 1 here"),
        _step_line("logit_artist1 = D_logit(G_paintings.detach())", "and at most -1 here"),
        "    D_loss = (torch.mean(torch.relu(1. - logit_artist0))",
        "              + torch.mean(torch.relu(1. + logit_artist1)))",
        _step_line("prob_artist0 = torch.sigmoid(logit_artist0)", "D(real), for the report"),
    ],
}

_ORDER_COMMENT = """\
    # G learns first, through the current D; then D learns on the same paintings, detached.
    # The tutorial's first version updated D first and then called G_loss.backward() on the
    # graph kept by D_loss.backward(retain_graph=True): since torch 1.5 that fails, because
    # opt_D.step() has changed in place the weights of D that this graph still needs."""

_STEP_DOC = '    """One training step; returns D(real) and D_loss, for the report."""'


def _training(config: GANConfig) -> str:
    """``train_step()``: the tutorial's loop body, in the fixed order; with ``d_steps > 1``
    the extra D updates first, through ``update_D``."""
    g_update = [
        _step_line("artist_paintings = artist_works()", "real painting from artist"),
        _step_line("G_ideas = new_ideas()", "random ideas"),
        _step_line("G_paintings = G(G_ideas)", "fake painting from G (random ideas)"),
        *_G_LOSS[config.loss],
        "    opt_G.zero_grad()",
        "    G_loss.backward()",
        "    opt_G.step()",
    ]
    d_update = [*_D_LOSS[config.loss], "    opt_D.zero_grad()", "    D_loss.backward()",
                "    opt_D.step()"]
    if config.d_steps == 1:
        lines = ["def train_step():", _STEP_DOC, _ORDER_COMMENT, *g_update, "", *d_update,
                 "    return prob_artist0, D_loss"]
    else:
        lines = [
            "def update_D(artist_paintings, G_paintings):",
            '    """One update of D on real paintings and G\'s, detached: G does not learn."""',
            *d_update,
            "    return prob_artist0, D_loss",
            "", "",
            "def train_step():",
            _STEP_DOC,
            _step_line("for _ in range(D_STEPS - 1):", "D learns alone first, on fresh batches"),
            "        update_D(artist_works(), G(new_ideas()))",
            _ORDER_COMMENT,
            *g_update,
            "    return update_D(artist_paintings, G_paintings)",
        ]
    return "\n".join(lines)


_REPORT = Template('''

def report(step, prob_artist0, D_loss):
    print(f"step {step}: D accuracy={prob_artist0.mean().item():.2f} ($d_real for D to "
          f"converge), D score= {-D_loss.item():.2f} ($d_score for G to converge)")
''')

_RESUME_OPTIMIZER = {
    "adam": {"kind": "Adam", "marker": "betas", "state": "moment estimates and step count"},
    "sgd": {"kind": "SGD", "marker": "momentum", "state": "momentum buffers"},
}

_RESUME = Template('''

def load_checkpoint(path):
    """Put a saved run's networks and optimizer state in place; returns its step. A file
    this script cannot continue is refused before anything changes."""
    try:
        ckpt = torch.load(path, weights_only=True)
    except OSError:
        raise
    except Exception as error:  # torch raises many kinds of error for what is no checkpoint
        raise ValueError(f"not a checkpoint ({error})") from None
    if not isinstance(ckpt, dict) or not {"G", "D", "opt_G", "opt_D", "step"} <= ckpt.keys():
        raise ValueError("not a GAN Curve Lab checkpoint: it needs G, D, opt_G, opt_D and step")
    for name, net in (("G", G), ("D", D)):
        saved = {key: tuple(value.shape) for key, value in ckpt[name].items()}
        here = {key: tuple(value.shape) for key, value in net.state_dict().items()}
        if saved != here:
            raise ValueError(
                f"its {name} has the shapes {saved}, but this script's {name} has {here}: "
                "the run had other sizes (N_IDEAS, hidden units or ART_COMPONENTS); write the "
                "script from that run's settings")
    for name in ("opt_G", "opt_D"):
        if "$marker" not in ckpt[name]["param_groups"][0]:
            raise ValueError(f"its {name} is not $kind's: the run used another optimizer")
    G.load_state_dict(ckpt["G"])
    D.load_state_dict(ckpt["D"])
    for opt, name in ((opt_G, "opt_G"), (opt_D, "opt_D")):
        # $kind's $state from the file, with this script's settings
        opt.load_state_dict({"state": ckpt[name]["state"],
                             "param_groups": opt.state_dict()["param_groups"]})
    return int(ckpt["step"])
''')

def _save(config: GANConfig) -> str:
    """``carried_on`` and ``save_checkpoint``: the run written as the lab writes a checkpoint,
    with only the settings this script's run uses (the others take the lab's defaults)."""
    unused = {"adam": ("momentum",), "sgd": ("beta1", "beta2")}[config.optimizer]
    tutorial = type(config)().to_mapping()
    differ = [f"    {json.dumps(name)}: {_literal(value)},"
              for name, value in config.to_mapping().items()
              if name not in unused and value != tutorial[name]]
    settings = ("SETTINGS = {}  # this run has the tutorial's settings" if not differ else
                "SETTINGS = {  # where this run's settings differ from the tutorial's\n"
                + "\n".join(differ) + "\n}")
    optimizers = _SGD_STATE if config.optimizer == "sgd" else _ADAM_STATE
    return _SAVE.substitute(settings=settings, optimizers=optimizers)


def _literal(value: object) -> str:
    """A setting's value as the script spells it (text in double quotes, numbers exactly)."""
    return json.dumps(value) if isinstance(value, str) else repr(value)


_ADAM_STATE = """\
    optimizers = {"opt_G": opt_G.state_dict(), "opt_D": opt_D.state_dict()}"""

_SGD_STATE = """\
    optimizers = {}
    for name, opt, net in (("G", opt_G, G), ("D", opt_D, D)):
        state = opt.state_dict()
        if updates[name]:  # torch keeps no momentum buffer while MOMENTUM is 0
            for i, weights in enumerate(net.parameters()):
                state["state"].setdefault(i, {"momentum_buffer": torch.zeros_like(weights)})
        optimizers[f"opt_{name}"] = state"""

_SAVE = Template('''

$settings


def carried_on(path):
    """What a GAN Curve Lab checkpoint holds beyond this script's own state: the updates each
    optimizer took, the lab's random stream and the run's history, carried to --save."""
    ckpt = torch.load(path, weights_only=True)
    return {key: ckpt[key] for key in ("optimizer_steps", "rng", "history") if key in ckpt}


def save_checkpoint(path, step, updates, carried):
    """Write the run as GAN Curve Lab writes a checkpoint ("gan-curve-lab/2", settings by the
    lab's names, those left out the tutorial's): the lab's upload resumes it at this step. Its
    history is the one resumed from: this script records none."""
    history = carried.get("history") or {
        name: {"steps": torch.zeros(0, dtype=torch.int64),
               "rows": torch.zeros((0, 1), dtype=torch.float64),
               "stride": stride, "columns": [column]}
        for name, column, stride in (("train", "d_loss", 4), ("eval", "w1", 100))}
$optimizers
    rng = carried.get("rng") or np.random.default_rng(SETTINGS.get("seed", 0)).bit_generator.state
    # Plain dicts: the lab opens only tensors and plain data (a state dict's own class carries
    # more, which it refuses unread).
    torch.save({"format": "gan-curve-lab/2", "config": SETTINGS, "step": step,
                "G": dict(G.state_dict()), "D": dict(D.state_dict()), **optimizers,
                "optimizer_steps": updates, "rng": rng, "history": history}, path)
''')


_MAIN = Template('''

def main(argv=None):
    parser = argparse.ArgumentParser(description="Train the tutorial's GAN with these settings.")
    parser.add_argument("--steps", type=int, default=10000, help="training steps to take")
    parser.add_argument("--resume", metavar="CHECKPOINT",
                        help="go on from a run saved by GAN Curve Lab (its weights, optimizer "
                        "state and step)")
    parser.add_argument("--save", metavar="CHECKPOINT",
                        help="write the run, when trained, as a checkpoint GAN Curve Lab's "
                        "upload takes")
    args = parser.parse_args(argv)
    if args.steps < 0:
        parser.error("--steps must be 0 or more")
    start, carried = 0, {}
    if args.resume:
        try:
            start = load_checkpoint(args.resume)
            carried = carried_on(args.resume)
        except (OSError, ValueError) as error:
            sys.exit(f"cannot resume from {args.resume}: {error}")
        print(f"resumed at step {start}")
    end = start + args.steps
    for step in range(start, end):
        prob_artist0, D_loss = train_step()
        if (step + 1) % $every == 0 or step + 1 == end:
            report(step + 1, prob_artist0, D_loss)
    if args.save:
        before = carried.get("optimizer_steps", {"G": start, "D": ${updates_d}start})
        updates = {"G": before["G"] + args.steps, "D": before["D"] + ${updates_d}args.steps}
        save_checkpoint(args.save, end, updates, carried)
        print(f"saved step {end} to {args.save}")


if __name__ == "__main__":
    main()
''')
