"""A run written out as a standalone PyTorch script in the tutorial's own style and names.

Writing the script needs no torch: the page can show it without paying for the import.
"""

from __future__ import annotations

import json
import math
import textwrap
from string import Template
from typing import TYPE_CHECKING

import numpy as np

from ..data.curves import Curves
from ..gan.labels import label_width_of
from ..gan.losses import SMOOTHED_LOSSES, equilibrium_point
from ..gan.targets import QuadraticFamily, SineFamily, Target, Uniforms, data_target, get_target

if TYPE_CHECKING:
    from ..gan.config import GANConfig

TUTORIAL_URL = ("https://github.com/MorvanZhou/PyTorch-Tutorial/blob/master/"
                "tutorial-contents/406_GAN.py")
CONDITIONAL_URL = ("https://github.com/MorvanZhou/PyTorch-Tutorial/blob/master/"
                   "tutorial-contents/406_conditional_GAN.py")
REPORT_EVERY = 500
"""The script prints the tutorial's "D accuracy" and "D score" every this many steps."""
MAX_LINE = 100
"""The script's lines fit in this many characters (ruff's default line length here)."""


def script(config: GANConfig, data: Curves | None = None) -> str:
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

    For target ``data``, ``data`` are the run's curves: a drawn band or drawn curves are
    written into ``artist_works()`` as arrays; curves from a CSV file are read from the file
    given with ``--data FILE.csv``, laid out as that file was (``read_data``).

    A conditional config writes ``406_conditional_GAN.py``'s run instead:
    ``artist_works_with_labels()`` draws the real paintings and their labels, G paints from
    ``G_inputs = torch.cat((G_ideas, labels), 1)`` and D judges ``D_inputs0`` and
    ``D_inputs1``, each painting with its label; in the order ``406_GAN.py`` was corrected to.
    Its script is written for the built-in families without stabilizers: any other
    conditional config (your data's classes, a stabilizer) raises ``ValueError`` saying why.
    """
    if (config.target == "data") != (data is not None):
        raise ValueError("a script of target 'data' needs the run's curves: give data")
    if config.conditional:
        _check_conditional(config, data)
    target = get_target(config.target) if data is None else data_target(data)
    table = data is not None and data.kind == "rows"
    point = equilibrium_point(config.loss, config.real_label)
    report = (_CRITIC_REPORT if config.loss == "wasserstein" else _REPORT.substitute(
        d_real=f"{point.d_real:.2f}", d_score=f"{point.d_score:.2f}"))
    if config.conditional:
        header = _CONDITIONAL_HEADER.substitute(
            url=CONDITIONAL_URL, target=target.title, loss=_LOSS_TEXT[config.loss],
            seed=config.seed, classes=_classes_text(target))
        artist = _artist_works_with_labels(target)
    else:
        header = _HEADER.substitute(url=TUTORIAL_URL, target=target.title,
                                    loss=_LOSS_TEXT[config.loss], seed=config.seed,
                                    imports=_imports(config),
                                    usage=_usage(_file_name(data) if table else None))
        artist = _artist_works(target)
    blocks = [
        header + _constants(config, data),
        artist,
        _NEW_IDEAS,
        *_draws(config),
        _networks(config),
        *_stabilizers(config),
        _conditional_training(config) if config.conditional else _training(config),
        report,
        _RESUME.substitute(_RESUME_OPTIMIZER[config.optimizer],
                           other=_OTHER[config.conditional]),
        _save(config, data),
        _main(config, data),
    ]
    return "\n\n\n".join(block.strip("\n") for block in blocks if block.strip()) + "\n"


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


_LOSS_TEXT = {
    "minimax": "the tutorial's, G minimises log(1 - D(G(z)))",
    "non_saturating": "non-saturating, G minimises -log D(G(z))",
    "least_squares": "least squares (LSGAN), on D's raw output",
    "hinge": "hinge, on D's raw output",
    "wasserstein": "Wasserstein (WGAN): D is a critic, whose score is not a probability",
}


def _check_conditional(config: GANConfig, data: Curves | None = None) -> None:
    """A conditional script is ``406_conditional_GAN.py``'s, for a built-in family and without
    stabilizers (the engine trains those; their script is not written). Your data's classes
    have none: the upstream file draws its one label column from its own curves' parameter,
    and a script of labelled curves (a label column read from a file, one column per class
    beyond two) would have no upstream file to hold its lines to."""
    if data is not None:
        raise ValueError("the PyTorch script of a conditional run is 406_conditional_GAN.py's, "
                         "whose classes are the tutorial's parabolas' (a − 1 > 0.5); a script "
                         "of your data's classes is not written. The checkpoint holds the "
                         "run as it is (G and D load into the tutorial's modules, with the "
                         "label columns after the noise and after the curve); turn "
                         "Conditional off for a script of your curves.")
    stabilizers = [name for name, on in (
        ("R1", config.r1), ("R2", config.r2), ("WGAN-GP", config.gp),
        ("spectral normalisation", config.spectral_norm),
        ("instance noise", config.instance_noise),
        ("label smoothing", _smoothing(config))) if on]
    if stabilizers:
        raise ValueError("the PyTorch script of a conditional run is 406_conditional_GAN.py's, "
                         "written without stabilizers; this run uses "
                         + ", ".join(stabilizers) + ". Turn them off (or Conditional) for a "
                         "script; the checkpoint holds the run as it is.")


def _imports(config: GANConfig) -> str:
    if not config.spectral_norm:
        return ""
    return ("from torch.nn.utils import parametrize\n"
            "from torch.nn.utils.parametrizations import spectral_norm\n")


def _smoothing(config: GANConfig) -> bool:
    """Does the script smooth D's target for real paintings?"""
    return config.real_label != 1.0 and config.loss in SMOOTHED_LOSSES


def _annealed(config: GANConfig) -> bool:
    return config.instance_noise > 0 and config.instance_noise_steps > 0


def _logit_name(config: GANConfig) -> str:
    """What gives D's raw output: ``D`` itself for a critic, else ``D_logit``."""
    return "D" if config.loss == "wasserstein" else "D_logit"


def _penalised(config: GANConfig) -> bool:
    return bool(config.r1 or config.r2 or config.gp)


_CONDITIONAL_HEADER = Template('''"""
The conditional GAN of Morvan Zhou's PyTorch tutorial 406_conditional_GAN.py, written out by
GAN Curve Lab with one run's settings, in the tutorial's names. It needs only torch and numpy.
$url

Real curves: $target (see artist_works_with_labels)
Classes: $classes
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

_HEADER = Template('''"""
The GAN of Morvan Zhou's PyTorch tutorial 406_GAN.py, written out by GAN Curve Lab with one
run's settings, in the tutorial's names. It needs only torch and numpy.
$url

Real curves: $target (see artist_works)
Loss: $loss

$usage
"""
import argparse
import sys

import numpy as np
import torch
import torch.nn as nn
${imports}
torch.set_num_threads(1)  # the networks are tiny: one thread is fastest
torch.manual_seed($seed)    # reproducible
np.random.seed($seed)

''')


def _constants(config: GANConfig, data: Curves | None = None) -> str:
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
    stabilizers = [
        (config.r1, f"R1_GAMMA = {config.r1!r}",
         "R1 penalty on D's slope at real paintings (Mescheder et al. 2018)"),
        (config.r2, f"R2_GAMMA = {config.r2!r}", "R2 penalty, the same at G's paintings"),
        (config.gp, f"GP_LAMBDA = {config.gp!r}",
         "WGAN-GP: D's slope near 1 between real and fake (Gulrajani et al. 2017)"),
        (config.instance_noise, f"NOISE = {config.instance_noise!r}",
         "instance noise: std of the noise on every painting D sees"),
        (_annealed(config), f"NOISE_STEPS = {config.instance_noise_steps}",
         "the noise falls linearly to 0 over these steps"),
        (_smoothing(config), f"REAL_LABEL = {config.real_label!r}",
         "one-sided label smoothing: D's target for real paintings"),
    ]
    for on, code, comment in stabilizers:
        if on:  # a long value (set from code) puts its comment on the line above
            line = _aligned(code, comment)
            lines += [line] if len(line) <= MAX_LINE else [f"# {comment}", code]
    lines += [
        _aligned(f"N_IDEAS = {config.latent_dim}",
                 "think of this as number of ideas for generating an art work (Generator)"),
        _aligned(f"ART_COMPONENTS = {config.n_points}",
                 "it could be total point G can draw in the canvas"),
    ]
    if data is None or data.is_tutorial:
        lines.append("PAINT_POINTS = np.vstack([np.linspace(-1, 1, ART_COMPONENTS) "
                     "for _ in range(BATCH_SIZE)])")
    elif not data.on_grid:
        lines += textwrap.wrap(f"The points sit at x = {_numbers(data.x)[1:-1]}, as the file's "
                               "header gives them.", 96, initial_indent="# ",
                               subsequent_indent="# ")
    if data is not None and data.normalised:
        lines += [
            "# The curves train on a normalised copy, (y - OFFSET) / SCALE: G paints that copy,",
            "# and OFFSET + SCALE * G(z) is a curve in the data's own units.",
            f"OFFSET = {data.offset!r}",
            f"SCALE = {data.scale!r}",
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
    if target.data is not None:
        return _data_works(target.data)
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


def _numbers(values: np.ndarray) -> str:
    """Values as a short exact list: drawn values are multiples of 0.005 and read back from
    three decimals; others are written in full."""
    out = []
    for v in np.asarray(values, np.float64).ravel().tolist():
        short = round(v, 6)
        out.append(repr(short if short == v or abs(short - v) < 1e-12 else v))
    return "[" + ", ".join(out) + "]"


def _array(name: str, values: np.ndarray, comment: str) -> list[str]:
    """``name = np.array([...])`` over as many lines as its values need (a row a block for a
    table), within the line length the tutorial's code keeps."""
    rows = np.atleast_2d(values)
    lines = [f"{name} = np.array([  # {comment}"]
    for row in rows:
        items = _numbers(row)[1:-1].split(", ")
        if values.ndim == 1:
            lines += [f"    {line}" for line in _wrapped(items, 92)]
        else:
            wrapped = _wrapped(items, 90)
            lines += [("    [" if i == 0 else "     ") + line
                      + ("]," if i == len(wrapped) - 1 else "") for i, line in enumerate(wrapped)]
    return [*lines, "])"]


def _wrapped(items: list[str], width: int) -> list[str]:
    lines, line = [], ""
    for item in items:
        if line and len(line) + len(item) + 2 > width:
            lines.append(line + ",")
            line = ""
        line = f"{line}, {item}" if line else item
    return [*lines, line]


def _data_works(data: Curves) -> str:
    """``artist_works`` for your curves, drawing them as ``Curves.sample`` does: a uniform
    blend of a band's bounds, one of the drawn curves plus Gaussian noise, or one row of the
    CSV file read by ``read_data``."""
    normalise = ["    paintings = (paintings - OFFSET) / SCALE"] if data.normalised else []
    works = _aligned("def artist_works():", "painting from the famous artist (real target)")
    finish = ["    paintings = torch.from_numpy(paintings).float()", "    return paintings"]
    if data.kind == "between":
        if data.is_tutorial:
            bounds = [
                "# The tutorial's own curves: a * x^2 + (a - 1) with a ~ U(1, 2) is the blend",
                "# (2 - a) * x^2 + (a - 1) * (2x^2 + 1), uniform between these two bounds.",
                "LOWER = PAINT_POINTS[0] ** 2",
                "UPPER = 2 * PAINT_POINTS[0] ** 2 + 1"]
        else:
            bounds = [*_array("LOWER", data.values[0], "the band's lower curve, drawn"),
                      *_array("UPPER", data.values[1], "and its upper curve")]
        return "\n".join([
            *bounds, "", "",
            works,
            _aligned("    u = np.random.uniform(0, 1, size=BATCH_SIZE)[:, np.newaxis]",
                     "where between the bounds", 48),
            "    paintings = LOWER + u * (UPPER - LOWER)", *normalise, *finish])
    if data.kind == "around":
        return "\n".join([
            *_array("CURVES", data.values, "the curves drawn"),
            _aligned(f"NOISE = {data.noise!r}", "standard deviation of the noise around them"),
            "", "",
            works,
            _aligned("    k = np.random.randint(len(CURVES), size=BATCH_SIZE)",
                     "which curve each painting follows", 48),
            "    paintings = CURVES[k] + NOISE * np.random.randn(BATCH_SIZE, ART_COMPONENTS)",
            *normalise, *finish])
    skip, first = data.layout
    return "\n".join([
        _aligned("DATA = None", "the curves of the CSV file, read by main() (--data)"),
        _aligned(f"SKIP_ROWS = {skip}", "rows before the curves (a header)"),
        _aligned(f"FIRST_COLUMN = {first}",
                 "columns before the curves' first point (an id, labels)"),
        "", "",
        "def read_data(path):",
        '    """The curves of a CSV file laid out as the run\'s was (' + _file_name(data) + "):",
        "    one curve per row, ART_COMPONENTS numbers from FIRST_COLUMN on, after SKIP_ROWS "
        'rows."""',
        "    paintings = np.loadtxt(path, delimiter=\",\", skiprows=SKIP_ROWS, ndmin=2,",
        "                           usecols=range(FIRST_COLUMN, FIRST_COLUMN + ART_COMPONENTS),",
        "                           encoding=\"utf-8-sig\", quotechar='\"', comments=None)",
        *normalise,
        "    return paintings",
        "", "",
        works,
        _aligned("    rows = np.random.randint(len(DATA), size=BATCH_SIZE)",
                 "one curve of the file each, as likely", 48),
        "    paintings = torch.from_numpy(DATA[rows]).float()",
        "    return paintings"])


def _file_name(data: Curves | None) -> str:
    """The file's own name where it makes a short plain argument, else ``FILE.csv``."""
    name = data.name if data is not None else ""
    plain = name.endswith(".csv") and len(name) <= 32 and all(
        c.isalnum() or c in "-_." for c in name)
    return name if plain else "FILE.csv"


def _usage(data_file: str | None) -> str:
    """The docstring's two command lines (with ``--data`` for curves read from a file)."""
    if data_file is None:
        return ("    python run.py --steps 10000                            # train from scratch\n"
                "    python run.py --steps 10000 --resume gan-curve-lab.pt  # go on from a "
                "saved run")
    return (f"    python run.py --steps 10000 --data {data_file}  # train from scratch\n"
            f"    python run.py --steps 10000 --data {data_file} --resume gan-curve-lab.pt")
def _classes_text(target: Target) -> str:
    """The classes as the header names them: class 1's rule in the script's own terms."""
    if not isinstance(target, QuadraticFamily | SineFamily):
        raise ValueError(f"no script is written for target {target.name!r}")
    low, high = target.class_names
    name = target.param_names[target.split_param]
    return f"{high} (1) where {name} > {_number(target.split_at)}, {low} (0) elsewhere"


def _artist_works_with_labels(target: Target) -> str:
    """``406_conditional_GAN.py``'s ``artist_works_with_labels``, drawing ``target``'s family
    as :func:`_artist_works` does, each painting's label read off its parameter as the engine
    reads it (``Target.sample_labelled``)."""
    unlabelled = _artist_works(target).splitlines()
    low, high = target.class_names  # type: ignore[misc]
    if isinstance(target, QuadraticFamily):
        rule = f"(a - 1) > {_number(target.split_at - 1)}"
        says = f"{high} paintings (1), {low} paintings (0), two classes"
    else:
        rule = f"amplitude > {_number(target.split_at)}"
        says = f"{high} amplitude (1), {low} (0), two classes"
    body = unlabelled[1:-2]
    return "\n".join([
        _aligned("def artist_works_with_labels():",
                 "painting from the famous artist (real target)", 36),
        *body,
        _aligned(f"    labels = {rule}", says, 36),
        "    paintings = torch.from_numpy(paintings).float()",
        "    labels = torch.from_numpy(labels.astype(np.float32))",
        "    return paintings, labels",
    ])


_NEW_IDEAS = """\
def new_ideas():        # random ideas for G to paint from (normal distribution)
    return torch.randn(BATCH_SIZE, N_IDEAS)"""


def _draws(config: GANConfig) -> list[str]:
    """The stabilizers' own random draws, each a function of its own (as ``new_ideas``)."""
    blocks = []
    if config.instance_noise:
        blocks.append(
            "def noise_like(paintings):  # instance noise: Gaussian, one draw per point\n"
            "    return torch.randn_like(paintings)")
    if config.gp:
        blocks.append(
            "def mix_weights():      # where each WGAN-GP mix lies between real and fake\n"
            "    return torch.rand(BATCH_SIZE, 1)")
    return blocks


def _stabilizers(config: GANConfig) -> list[str]:
    """The penalties and the noise, each a short function as GAN_stability writes them."""
    logit = _logit_name(config)
    blocks = []
    if config.r1 or config.r2:
        blocks.append(f'''def compute_grad2(paintings):
    """Squared length of the gradient of D's raw output with respect to each painting (as
    GAN_stability's compute_grad2): what the R1 and R2 penalties keep small."""
    paintings = paintings.detach().requires_grad_(True)
    grad, = torch.autograd.grad({logit}(paintings).sum(), paintings, create_graph=True)
    return grad.pow(2).sum(1)''')
    if config.gp:
        blocks.append(f'''def wgan_gp(artist_paintings, G_paintings):
    """WGAN-GP's penalty: the length of D's gradient at random mixes of real and fake
    paintings, pulled to 1."""
    e = mix_weights()
    mixed = (e * artist_paintings + (1 - e) * G_paintings).detach().requires_grad_(True)
    grad, = torch.autograd.grad({logit}(mixed).sum(), mixed, create_graph=True)
    return (grad.norm(2, dim=1) - 1).pow(2).mean()''')
    if config.instance_noise:
        if _annealed(config):
            head = ["def add_noise(artist_paintings, G_paintings, step):",
                    '    """Instance noise: D sees every painting blurred by Gaussian noise, its '
                    "std falling",
                    '    from NOISE to 0 over NOISE_STEPS steps."""',
                    "    sigma = NOISE * max(0.0, 1 - step / NOISE_STEPS)",
                    "    if sigma > 0:"]
            indent = "        "
        else:
            head = ["def add_noise(artist_paintings, G_paintings):",
                    '    """Instance noise: D sees every painting blurred by Gaussian noise."""',
                    "    sigma = NOISE"]
            indent = "    "
        blocks.append("\n".join([
            *head,
            f"{indent}artist_paintings = artist_paintings + sigma * noise_like(artist_paintings)",
            f"{indent}G_paintings = G_paintings + sigma * noise_like(G_paintings)",
            "    return artist_paintings, G_paintings"]))
    return blocks


def _networks(config: GANConfig) -> str:
    h = config.hidden

    def layer(code: str) -> str:
        return f"spectral_norm({code})" if config.spectral_norm else code

    critic = config.loss == "wasserstein"
    if config.conditional:  # the tutorial's N_IDEAS+1 and ART_COMPONENTS+1: the class label
        c = label_width_of(config)
        g_in = _aligned(f"    nn.Linear(N_IDEAS + {c}, {h}),",
                        "random ideas (normal distribution) + class label", 40)
        d_in = _aligned(f"    {layer(f'nn.Linear(ART_COMPONENTS + {c}, {h})')},",
                        "art work with its label, from the artist or G", 40)
    else:
        g_in = _aligned(f"    nn.Linear(N_IDEAS, {h}),",
                        "random ideas (could from normal distribution)", 40)
        d_in = _aligned(f"    {layer(f'nn.Linear(ART_COMPONENTS, {h})')},",
                        "art work from the famous artist or from G" if config.spectral_norm
                        else "receive art work from the famous artist or a newbie like G", 40)
    lines = [
        _aligned("G = nn.Sequential(", "Generator", 40),
        g_in,
        "    nn.ReLU(),",
        _aligned(f"    nn.Linear({h}, ART_COMPONENTS),",
                 "making a painting from these random ideas", 40),
        ")",
        "",
        _aligned("D = nn.Sequential(", "Critic: gives a score, not a probability" if critic
                 else "Discriminator", 40),
        d_in,
        "    nn.ReLU(),",
        f"    {layer(f'nn.Linear({h}, 1)')},",
        *([] if critic else [_aligned("    nn.Sigmoid(),",
                                      "tell the probability that the art work is made by artist",
                                      40)]),
        ")",
    ]
    if config.spectral_norm:
        lines += ["# spectral_norm: each Linear's weight divided by its largest singular value,",
                  "# found by one step of the power iteration per forward pass in training",
                  "# (Miyato et al. 2018)"]
    if not critic and (config.loss in ("least_squares", "hinge") or _penalised(config)):
        lines.append(_aligned("D_logit = D[:-1]",
                              "D without its Sigmoid: its raw output, which this loss uses"
                              if config.loss in ("least_squares", "hinge") else
                              "D without its Sigmoid: its raw output, which the penalties use"))
    if config.optimizer == "sgd":
        make = "torch.optim.SGD({}.parameters(), lr={}, momentum=MOMENTUM)"
    elif _custom_betas(config):
        make = "torch.optim.Adam({}.parameters(), lr={}, betas=BETAS)"
    else:
        make = "torch.optim.Adam({}.parameters(), lr={})"
    lines += ["", f"opt_D = {make.format('D', 'LR_D')}", f"opt_G = {make.format('G', 'LR_G')}"]
    return "\n".join(lines)


def _step_line(code: str, comment: str) -> str:
    """A line of the step with its comment at column 48; too long for both (with spectral
    normalisation's extra indent), the code alone."""
    line = _aligned(f"    {code}", comment, 48)
    return line if len(line) <= MAX_LINE - 4 else f"    {code}"


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
    "wasserstein": [
        _step_line("critic_artist1 = D(G_paintings)", "G tries to raise this score"),
        "    G_loss = -torch.mean(critic_artist1)",
    ],
}

_D_LOSS_LOG = [
    _step_line("prob_artist0 = D(artist_paintings)", "D try to increase this prob"),
    _step_line("prob_artist1 = D(G_paintings.detach())", "D try to reduce this prob"),
    "    D_loss = - torch.mean(torch.log(prob_artist0) + torch.log(1. - prob_artist1))",
]
_D_LOSS_LOG_SMOOTHED = [
    _step_line("prob_artist0 = D(artist_paintings)", "D try to increase this prob"),
    _step_line("prob_artist1 = D(G_paintings.detach())", "D try to reduce this prob"),
    "    D_loss = - torch.mean(REAL_LABEL * torch.log(prob_artist0)",
    "                          + (1 - REAL_LABEL) * torch.log(1. - prob_artist0)",
    "                          + torch.log(1. - prob_artist1))",
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
    "wasserstein": [
        _step_line("critic_artist0 = D(artist_paintings)", "the critic scores these high"),
        _step_line("critic_artist1 = D(G_paintings.detach())", "and these low"),
        "    D_loss = torch.mean(critic_artist1) - torch.mean(critic_artist0)",
    ],
}


def _d_loss(config: GANConfig) -> list[str]:
    """D's loss lines, with its real target smoothed where the config says so."""
    if not _smoothing(config):
        return _D_LOSS[config.loss]
    if config.loss == "least_squares":
        return [line.replace("D wants to say 1 here", "D wants to say REAL_LABEL here")
                .replace("(logit_artist0 - 1)", "(logit_artist0 - REAL_LABEL)")
                for line in _D_LOSS["least_squares"]]
    return _D_LOSS_LOG_SMOOTHED


def _penalty(config: GANConfig) -> list[str]:
    """The lines adding the penalties to D's loss (kept apart: the report shows the loss)."""
    terms = []
    if config.r1:
        terms.append(("R1_GAMMA / 2 * compute_grad2(artist_paintings).mean()", "R1"))
    if config.r2:
        terms.append(("R2_GAMMA / 2 * compute_grad2(G_paintings.detach()).mean()", "R2"))
    if config.gp:
        terms.append(("GP_LAMBDA * wgan_gp(artist_paintings, G_paintings.detach())",
                      "WGAN-GP"))
    lines = []
    for i, (term, name) in enumerate(terms):
        code = f"penalty = {term}" if i == 0 else f"penalty = penalty + {term}"
        lines.append(f"    {code}" if len(code) > 70 else _step_line(code, name))
    return lines

_ORDER_COMMENT = """\
    # G learns first, through the current D; then D learns on the same paintings, detached.
    # The tutorial's first version updated D first and then called G_loss.backward() on the
    # graph kept by D_loss.backward(retain_graph=True): since torch 1.5 that fails, because
    # opt_D.step() has changed in place the weights of D that this graph still needs."""

_STEP_DOC = '    """One training step; returns D(real) and D_loss, for the report."""'
_CACHED = ("    with parametrize.cached():  # one power iteration a step: both updates see one "
           "normalised D")


def _indented(lines: list[str]) -> list[str]:
    return [f"    {line}" if line else line for line in lines]


def _training(config: GANConfig) -> str:
    """``train_step()``: the tutorial's loop body, in the fixed order; with ``d_steps > 1``
    the extra D updates first, through ``update_D``. The stabilizers add their lines where
    they act; with spectral normalisation each update of D runs inside
    ``parametrize.cached()``, so that one forward pass's normalised weights (one power
    iteration) serve it, as the engine's single pass does."""
    sn, noise = config.spectral_norm, config.instance_noise > 0
    noised = "add_noise(artist_paintings, G_paintings" + (", step)" if _annealed(config)
                                                          else ")")
    g_update = [
        _step_line("artist_paintings = artist_works()", "real painting from artist"),
        _step_line("G_ideas = new_ideas()", "random ideas"),
        _step_line("G_paintings = G(G_ideas)", "fake painting from G (random ideas)"),
        *([_step_line(f"artist_paintings, G_paintings = {noised}", "instance noise")]
          if noise else []),
        *_G_LOSS[config.loss],
        "    opt_G.zero_grad()",
        # the normalised weights' graph serves D's update below too
        "    G_loss.backward(retain_graph=True)" if sn else "    G_loss.backward()",
        "    opt_G.step()",
    ]
    penalty = _penalty(config)
    report = "critic_artist0" if config.loss == "wasserstein" else "prob_artist0"
    d_update = [*_d_loss(config), *penalty, "    opt_D.zero_grad()",
                "    (D_loss + penalty).backward()" if penalty else "    D_loss.backward()",
                "    opt_D.step()"]
    step = "step" if _annealed(config) else ""
    doc = _STEP_DOC.replace("D(real)", "the critic's real scores") \
        if config.loss == "wasserstein" else _STEP_DOC
    order = _ORDER_COMMENT.split("\n")
    if config.d_steps == 1:
        body = [*order, *g_update, "", *d_update, f"    return {report}, D_loss"]
        lines = [f"def train_step({step}):", doc,
                 *([_CACHED, *_indented(body)] if sn else body)]
    else:
        extra = (["artist_paintings, G_paintings = "
                  + noised.replace("artist_paintings, G_paintings", "artist_works(), "
                                   "G(new_ideas())"),
                  "update_D(artist_paintings, G_paintings)"] if noise
                 else ["update_D(artist_works(), G(new_ideas()))"])
        extra = [f"        {line}" for line in extra]
        if sn:
            extra = ["        with parametrize.cached():", *_indented(extra)]
        body = [*order, *g_update, "    return update_D(artist_paintings, G_paintings)"]
        lines = [
            "def update_D(artist_paintings, G_paintings):",
            '    """One update of D on real paintings and G\'s, detached: G does not learn."""',
            *d_update,
            f"    return {report}, D_loss",
            "", "",
            f"def train_step({step}):",
            doc,
            _step_line("for _ in range(D_STEPS - 1):", "D learns alone first, on fresh batches"),
            *extra,
            *([_CACHED, *_indented(body)] if sn else body),
        ]
    return "\n".join(lines)


def _step_call(config: GANConfig) -> str:
    return "train_step(step)" if _annealed(config) else "train_step()"


_CRITIC_REPORT = """

def report(step, critic_artist0, D_loss):
    # A critic gives scores, not probabilities: its gap between real and fake paintings,
    # -D_loss, estimates how far apart they are.
    print(f"step {step}: critic gap={-D_loss.item():.2f} (0.00 for G to converge)")
"""
_CONDITIONAL_ORDER_COMMENT = """\
    # G learns first, through the current D; then D learns on the same paintings, detached.
    # 406_conditional_GAN.py as published updates D first and then calls G_loss.backward() on
    # the graph kept by D_loss.backward(retain_graph=True): since torch 1.5 that fails, because
    # opt_D.step() has changed in place the weights of D that this graph still needs. This is
    # the order 406_GAN.py itself was corrected to."""

_INPUTS = (("D(G_paintings.detach())", "D(D_inputs1)"), ("D(G_paintings)", "D(D_inputs1)"),
           ("D(artist_paintings)", "D(D_inputs0)"),
           ("D_logit(G_paintings.detach())", "D_logit(D_inputs1)"),
           ("D_logit(G_paintings)", "D_logit(D_inputs1)"),
           ("D_logit(artist_paintings)", "D_logit(D_inputs0)"))
"""D's inputs in a loss's lines, and what a conditional D reads instead: each painting with
its label."""


def _labelled(lines: list[str]) -> list[str]:
    """A loss's lines of the step (``_G_LOSS``, ``_D_LOSS``) for a conditional D: D judges
    ``D_inputs0`` and ``D_inputs1``, comments realigned."""
    out = []
    for line in lines:
        code, mark, comment = line.partition("  # ")
        for plain, labelled in _INPUTS:
            code = code.replace(plain, labelled)
        out.append(_step_line(code.strip(), comment) if mark else code)
    return out


def _conditional_training(config: GANConfig) -> str:
    """``train_step()`` of ``406_conditional_GAN.py`` in the corrected order: G's update
    through D told the labels, then D's on the labelled real and (detached) painted curves;
    with ``d_steps > 1`` the extra D updates first."""
    g_update = [
        _step_line("artist_paintings, labels = artist_works_with_labels()",
                   "real painting, label from artist"),
        _step_line("G_ideas = new_ideas()", "random ideas"),
        _step_line("G_inputs = torch.cat((G_ideas, labels), 1)", "ideas with labels"),
        _step_line("G_paintings = G(G_inputs)", "fake painting w.r.t label from G"),
        _step_line("D_inputs1 = torch.cat((G_paintings, labels), 1)", "G's, with their labels"),
        *_labelled(_G_LOSS[config.loss]),
        "    opt_G.zero_grad()",
        "    G_loss.backward()",
        "    opt_G.step()",
    ]
    d_update = [
        _step_line("D_inputs0 = torch.cat((artist_paintings, labels), 1)",
                   "all have their labels"),
        "    D_inputs1 = torch.cat((G_paintings.detach(), labels), 1)",
        *_labelled(_D_LOSS[config.loss]),
        "    opt_D.zero_grad()", "    D_loss.backward()", "    opt_D.step()"]
    judged = "critic_artist0" if config.loss == "wasserstein" else "prob_artist0"
    if config.d_steps == 1:
        lines = ["def train_step():", _STEP_DOC, _CONDITIONAL_ORDER_COMMENT, *g_update, "",
                 *d_update, f"    return {judged}, D_loss"]
    else:
        lines = [
            "def update_D(artist_paintings, labels, G_paintings):",
            '    """One update of D on labelled real paintings and G\'s, detached: G does not '
            'learn."""',
            *d_update,
            f"    return {judged}, D_loss",
            "", "",
            "def train_step():",
            _STEP_DOC,
            _step_line("for _ in range(D_STEPS - 1):", "D learns alone first, on fresh batches"),
            "        artist_paintings, labels = artist_works_with_labels()",
            "        update_D(artist_paintings, labels, G(torch.cat((new_ideas(), labels), 1)))",
            _CONDITIONAL_ORDER_COMMENT,
            *g_update,
            "    return update_D(artist_paintings, labels, G_paintings)",
        ]
    return "\n".join(lines)


_REPORT = Template('''

def report(step, prob_artist0, D_loss):
    print(f"step {step}: D accuracy={prob_artist0.mean().item():.2f} ($d_real for D to "
          f"converge), D score= {-D_loss.item():.2f} ($d_score for G to converge)")
''')

_OTHER = {False: "was conditional", True: "was not conditional"}
"""What else a checkpoint of other shapes may have been, by whether the script is
conditional."""

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
        if saved.keys() != here.keys():
            raise ValueError(
                f"its {name} holds {sorted(saved)}, but this script's {name} holds "
                f"{sorted(here)}: one of them is spectrally normalised and the other is not; "
                "write the script from that run's settings")
        if saved != here:
            raise ValueError(
                f"its {name} has the shapes {saved}, but this script's {name} has {here}: "
                "the run had other sizes (N_IDEAS, hidden units or ART_COMPONENTS) or "
                "$other; write the script from that run's settings")
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

def _main(config: GANConfig, data: Curves | None) -> str:
    """``main()``: train, report, and (but for your data, whose curves a checkpoint of the lab
    carries and this script does not) ``--save`` the run as a checkpoint the lab's upload
    takes."""
    saves = data is None
    fields = {"every": REPORT_EVERY, "call": _step_call(config), "data_arg": "",
              "data_read": "", "save_arg": _SAVE_ARG if saves else "",
              "start": "start, carried = 0, {}" if saves else "start = 0",
              "carry": "\n            carried = carried_on(args.resume)" if saves else "",
              "save_write": _SAVE_WRITE.substitute(
                  updates_d="D_STEPS * " if config.d_steps > 1 else "") if saves else ""}
    if data is not None and data.kind == "rows":
        fields |= {"data_arg": _DATA_ARG, "data_read": _DATA_READ.substitute(
            rows=data.n_curves, count=f"{data.n_curves:,}")}
    return _MAIN.substitute(fields)


_SAVE_ARG = '''
    parser.add_argument("--save", metavar="CHECKPOINT",
                        help="write the run, when trained, as a checkpoint GAN Curve Lab's "
                        "upload takes")'''

_SAVE_WRITE = Template('''
    if args.save:
        before = carried.get("optimizer_steps", {"G": start, "D": ${updates_d}start})
        updates = {"G": before["G"] + args.steps, "D": before["D"] + ${updates_d}args.steps}
        save_checkpoint(args.save, end, updates, carried)
        print(f"saved step {end} to {args.save}")''')


_DATA_ARG = '''
    parser.add_argument("--data", metavar="FILE.csv", required=True,
                        help="the CSV file of curves the run learned (one curve per row)")'''

_DATA_READ = Template('''
    global DATA
    try:
        DATA = read_data(args.data)
    except (OSError, ValueError) as error:
        sys.exit(f"cannot read curves from {args.data}: {error}")
    if len(DATA) != $rows:
        print(f"note: {args.data} holds {len(DATA)} curves; the run learned $count")''')


def _save(config: GANConfig, data: Curves | None) -> str:
    """``carried_on`` and ``save_checkpoint``: the run written as the lab writes a checkpoint,
    with only the settings this script's run uses (the others take the lab's defaults). For
    your data nothing: a checkpoint of your data also holds the curves, which the script does
    not write (no ``--save``)."""
    if data is not None:
        return ""
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

_CARRIED_ON = '''

def carried_on(path):
    """What a GAN Curve Lab checkpoint holds beyond this script's own state: the updates each
    optimizer took, the lab's random stream and the run's history, carried to --save."""
    ckpt = torch.load(path, weights_only=True)
    return {key: ckpt[key] for key in ("optimizer_steps", "rng", "history") if key in ckpt}
'''

_SAVE = Template('''

$settings
''' + _CARRIED_ON + '''

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
                        "state and step)")$data_arg$save_arg
    args = parser.parse_args(argv)
    if args.steps < 0:
        parser.error("--steps must be 0 or more")$data_read
    $start
    if args.resume:
        try:
            start = load_checkpoint(args.resume)$carry
        except (OSError, ValueError) as error:
            sys.exit(f"cannot resume from {args.resume}: {error}")
        print(f"resumed at step {start}")
    end = start + args.steps
    for step in range(start, end):
        judged, D_loss = $call
        if (step + 1) % $every == 0 or step + 1 == end:
            report(step + 1, judged, D_loss)$save_write


if __name__ == "__main__":
    main()
''')
