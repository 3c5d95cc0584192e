"""The one source of truth for every hyperparameter.

Each field of a settings dataclass carries a :class:`Param` in its metadata: label, help text,
valid range or choices, sidebar group and whether a running trainer can take a new value live.
The page builds its sidebar and its shareable URL from these, and ``from_mapping`` validates
with them, so a new hyperparameter is one new field here and nothing else.

:class:`GANConfig` holds what decides a run (a checkpoint stores it); how fast the page shows
that run is :class:`Pacing`, a second schema of the same kind. Pacing is not part of a run: the
same run can be watched fast or slowly, so it never reaches the engine, a checkpoint or a
stability-map member; ``gan_core.serve.pacing`` keeps the server to it.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal, Self

LOSSES = ("minimax", "non_saturating", "least_squares", "hinge", "wasserstein")
OPTIMIZERS = ("adam", "sgd")
TARGETS = ("parabola", "two_bands", "sine")
"""The built-in target families (``gan_core.gan.targets.TARGET_FAMILIES``)."""
TARGET_CHOICES = (*TARGETS, "data")
"""What ``target`` may be: a family, or ``data``, your own curves."""
GROUPS = ("Training", "Model", "Target", "Run")


@dataclass(frozen=True)
class Param:
    """How one setting is shown, parsed and applied."""

    label: str
    help: str
    group: str
    live: bool
    kind: type = float  # int, float, str or bool: the field's type, from its default
    default: Any = None
    low: float | None = None
    high: float | None = None
    choices: tuple[str, ...] = ()
    log: bool = False
    step: float | None = None  # slider resolution of a linear float
    least: float | None = None
    """A log-scaled setting whose ``low`` is 0 (off) offers 0, then its grid from this."""

    def grid(self) -> tuple[float, ...]:
        """Values a log-scaled setting offers on a slider: 1, 2, 3, 5 in every decade (and 0
        first, for a strength that 0 switches off); whole numbers for an int setting."""
        first = self.least if self.low == 0 and self.least is not None else self.low
        lo, hi = math.floor(math.log10(first)), math.ceil(math.log10(self.high))
        values = {float(f"{m}e{e}") for e in range(lo, hi + 1) for m in (1, 2, 3, 5)}
        values = {v for v in values if first <= v <= self.high} | (
            {0.0} if first != self.low else set())
        return tuple(sorted(self.kind(v) for v in values))

    def spread(self, lo: float, hi: float, n: int) -> tuple[float, ...]:
        """``n`` offered values from ``lo`` to ``hi``, as evenly spaced in log as the grid
        allows (fewer if the range holds fewer): a sweep whose every value a slider can show."""
        inside = [v for v in self.grid() if lo <= v <= hi]
        if inside and inside[0] == 0 and n > 1 and len(inside) > 1:  # off, then log spread
            return (inside[0], *self.spread(inside[1], hi, n - 1))
        if n == 1 or len(inside) <= 1:
            return tuple(inside[:1])
        step = (math.log(hi) - math.log(lo)) / (n - 1)
        picked = {min(inside, key=lambda v: abs(math.log(v) - math.log(lo) - i * step))
                  for i in range(n)}
        return tuple(sorted(picked))

    def offers(self, value: Any) -> bool:
        """Can the page's widget show ``value`` (a valid value of this setting)? Choices and
        the log grid are listed; a linear float slider moves in ``step``; ints and switches
        show every value."""
        if self.kind is bool:
            return True
        if self.choices:
            return value in self.choices
        if self.log:
            return value in self.grid()
        if self.kind is float:
            k = (value - self.low) / self.step
            return abs(k - round(k)) < 1e-6
        return True

    def format(self, value: Any) -> str:
        """The value as a link spells it, and as the page's widget labels it (a switch as
        ``true`` or ``false``, as Streamlit writes a bound toggle into the URL)."""
        if isinstance(value, bool):
            return "true" if value else "false"
        return f"{value:g}" if isinstance(value, float) else str(value)

    def describe_range(self) -> str:
        if self.kind is bool:
            return "true or false"
        if self.choices:
            return "one of " + ", ".join(self.choices)
        return f"between {self.low:g} and {self.high:g}"


def _param(default: Any, **spec: Any) -> Any:
    return field(default=default,
                 metadata={"param": Param(kind=type(default), default=default, **spec)})


class Settings:
    """What a frozen dataclass of :class:`Param` fields can do: validate itself on
    construction, parse outside input, and list its fields' descriptions."""

    __dataclass_fields__: ClassVar[dict[str, dataclasses.Field]]

    def __post_init__(self) -> None:
        for name, param in self.params().items():
            _check(name, param, getattr(self, name))

    @classmethod
    def params(cls) -> dict[str, Param]:
        """Every field's :class:`Param`, in declaration order."""
        return {f.name: f.metadata["param"] for f in dataclasses.fields(cls)}

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any]) -> Self:
        """Build from strings or numbers (a URL, a form, JSON).

        Missing keys take their defaults. Raises ``ValueError`` naming the field for an unknown
        key, a value of the wrong type or one out of range; nothing is coerced silently.
        """
        params = cls.params()
        unknown = sorted(set(values) - set(params))
        if unknown:
            raise ValueError(f"unknown setting {unknown[0]!r}; known: {', '.join(params)}")
        return cls(**{name: _parse(name, params[name], raw) for name, raw in values.items()})

    def to_mapping(self) -> dict[str, Any]:
        """Plain values by field name; ``from_mapping`` of it gives back these settings."""
        return dataclasses.asdict(self)  # type: ignore[call-overload]

    def replace(self, **changes: Any) -> Self:
        return dataclasses.replace(self, **changes)  # type: ignore[type-var]

    def changed_fields(self, other: Self) -> list[str]:
        return [name for name in self.params() if getattr(self, name) != getattr(other, name)]


@dataclass(frozen=True)
class GANConfig(Settings):
    """Hyperparameters of one GAN run; the defaults are the tutorial's ``406_GAN.py``."""

    lr_g: float = _param(
        1e-4, label="Generator learning rate", group="Training", live=True, low=1e-6, high=10.0,
        log=True, help="Step size of G's optimizer. Tutorial: 1e-4. Above ~1e-2 training usually "
        "oscillates or diverges.")
    lr_d: float = _param(
        1e-4, label="Discriminator learning rate", group="Training", live=True, low=1e-6,
        high=10.0, log=True, help="Step size of D's optimizer. Tutorial: 1e-4.")
    batch_size: int = _param(
        64, label="Batch size", group="Training", live=True, low=8, high=512,
        help="Real and generated curves per step. Tutorial: 64.")
    loss: Literal["minimax", "non_saturating", "least_squares", "hinge", "wasserstein"] = _param(
        "minimax", label="Loss", group="Training", live=True, choices=LOSSES,
        help="minimax: the tutorial's log D(real) + log(1 - D(fake)). non_saturating: G "
        "maximises log D(fake) instead (stronger early gradients). least_squares: LSGAN. "
        "hinge: the hinge loss of SN-GAN/BigGAN. wasserstein: WGAN's critic (Arjovsky et al. "
        "2017), a score without the sigmoid; keep it 1-Lipschitz with the gradient penalty "
        "(WGAN-GP, λ = 10) or spectral normalisation, or it runs away.")
    d_steps: int = _param(
        1, label="D steps per G step", group="Training", live=True, low=1, high=10,
        help="Discriminator updates per generator update. Tutorial: 1.")
    optimizer: Literal["adam", "sgd"] = _param(
        "adam", label="Optimizer", group="Training", live=True, choices=OPTIMIZERS,
        help="Adam (tutorial) or SGD with momentum. Switching live keeps the weights and "
        "restarts the optimizer's moment estimates.")
    beta1: float = _param(
        0.9, label="Adam beta1", group="Training", live=True, low=0.0, high=0.999, step=0.001,
        help="Adam's first-moment decay. torch's default 0.9; 0.5 is common for GANs.")
    beta2: float = _param(
        0.999, label="Adam beta2", group="Training", live=True, low=0.9, high=0.9999, step=0.0001,
        help="Adam's second-moment decay. torch's default 0.999.")
    momentum: float = _param(
        0.9, label="SGD momentum", group="Training", live=True, low=0.0, high=0.99, step=0.01,
        help="Momentum of SGD (used only when the optimizer is SGD).")
    r1: float = _param(
        0.0, label="R1 penalty γ", group="Training", live=True, low=0.0, least=1e-3, high=100.0,
        log=True, help="Zero-centred gradient penalty on real curves, γ/2 · E‖∇ₓ logit D(x)‖² "
        "(Mescheder, Geiger & Nowozin 2018, 'Which Training Methods for GANs do actually "
        "Converge?'): D may not be steep where the real curves are, so G and D stop circling "
        "each other and settle. 0 = off.")
    r2: float = _param(
        0.0, label="R2 penalty γ", group="Training", live=True, low=0.0, least=1e-3, high=100.0,
        log=True, help="The same penalty on generated curves, γ/2 · E‖∇ₓ logit D(G(z))‖² "
        "(Mescheder et al. 2018). 0 = off.")
    gp: float = _param(
        0.0, label="Gradient penalty λ (WGAN-GP)", group="Training", live=True, low=0.0,
        least=1e-3, high=100.0, log=True,
        help="λ · E(‖∇ₓ D(x̂)‖ − 1)² on random mixes x̂ of a real and a generated curve "
        "(Gulrajani et al. 2017, 'Improved Training of Wasserstein GANs'): keeps the "
        "wasserstein critic's slope near 1. Their λ: 10. Works on D's logit under any loss. "
        "0 = off.")
    spectral_norm: bool = _param(
        False, label="Spectral normalisation of D", group="Training", live=True,
        help="Divide each of D's weight matrices by its largest singular value, estimated by "
        "one power iteration per update (Miyato et al. 2018, 'Spectral Normalization for "
        "GANs'; torch.nn.utils.parametrizations.spectral_norm): D's slope is bounded, so its "
        "push on G cannot explode.")
    instance_noise: float = _param(
        0.0, label="Instance noise σ", group="Training", live=True, low=0.0, least=1e-3,
        high=1.0, log=True,
        help="Gaussian noise of this standard deviation added to real and generated curves "
        "before D sees them (Sønderby et al. 2017; Arjovsky & Bottou 2017): the two laws "
        "overlap, so D cannot separate them perfectly and G keeps a smooth push; Mescheder et "
        "al. 2018 show it makes training converge. 0 = off.")
    instance_noise_steps: int = _param(
        0, label="Instance noise anneal (steps)", group="Training", live=True, low=0,
        least=100, high=100_000, log=True,
        help="The noise falls linearly from σ to 0 over this many steps of the run, counted "
        "from its first step (at step t it is σ · (1 − t/N), then 0). 0 keeps it constant.")
    real_label: float = _param(
        1.0, label="Real label (one-sided smoothing)", group="Training", live=True, low=0.5,
        high=1.0, step=0.05,
        help="D's target for real curves: 1 is none; 0.9 is the one-sided label smoothing of "
        "Salimans et al. 2016 ('Improved Techniques for Training GANs'): D is never rewarded "
        "for certainty, and generated curves keep target 0. For minimax, non_saturating and "
        "least_squares; hinge and wasserstein have no targets.")
    latent_dim: int = _param(
        5, label="Latent dimension", group="Model", live=False, low=1, high=64,
        help="Size of G's random input ('ideas'). Tutorial: 5. Changing it starts a new model.")
    hidden: int = _param(
        128, label="Hidden units", group="Model", live=False, low=4, high=512,
        help="Width of the hidden layer of both G and D. Tutorial: 128. Changing it starts a "
        "new model.")
    n_points: int = _param(
        15, label="Points per curve", group="Model", live=False, low=4, high=100,
        help="Samples of each curve on [-1, 1]. Tutorial: 15. Your data's curves have as many "
        "points as they hold. Changing it starts a new model.")
    conditional: bool = _param(
        False, label="Conditional", group="Model", live=False,
        help="G and D get each curve's class beside their inputs, as in the tutorial's sequel "
        "406_conditional_GAN.py, and G paints a curve of the class it is asked for. Classes: "
        "parabola, the tutorial's (a − 1) > 0.5 (upper half of the band) or not; two_bands, "
        "its two bands; sine, amplitude above or below its median 1. Changing it starts a new "
        "model.")
    target: Literal["parabola", "two_bands", "sine", "data"] = _param(
        "parabola", label="Target family", group="Target", live=False, choices=TARGET_CHOICES,
        help="parabola: the tutorial's a*x^2 + (a-1), a ~ U(1, 2). two_bands: a from two "
        "separate ranges, where mode collapse shows. sine: random amplitude and phase, a "
        "two-parameter family. data: your own curves, drawn or from a CSV file. Changing it "
        "starts a new model.")
    seed: int = _param(
        0, label="Seed", group="Run", live=False, low=0, high=2**31 - 1,
        help="Seeds weights, batches and noise: the same config and seed give the same run.")

    def fresh_fields(self, new: GANConfig) -> list[str]:
        """The fields that differ in ``new`` and cannot change on a running model (shapes,
        target, seed): if any, taking ``new`` means a fresh model; if none, a live change."""
        params = self.params()
        return [name for name in self.changed_fields(new) if not params[name].live]


_INTEGER = re.compile(r"[+-]?[0-9]+")
_DECIMAL = re.compile(r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?")


def _shown(value: Any, most: int = 40) -> str:
    """``repr(value)``, shortened: messages echo outside input, which can be long."""
    text = repr(value)
    return text if len(text) <= most else text[: most - 4] + "…" + text[-3:]


def _parse(name: str, param: Param, raw: Any) -> Any:
    kind = param.kind
    if kind is bool:  # a switch: true or false, as a URL spells it (Streamlit reads any case)
        if isinstance(raw, str) and raw.strip().lower() in ("true", "false"):
            return raw.strip().lower() == "true"
        if isinstance(raw, bool):
            return raw
        raise ValueError(f"{name}: expected true or false, got {_shown(raw)}")
    if isinstance(raw, bool):
        raise ValueError(f"{name}: expected a {kind.__name__}, got {raw!r}")
    if kind is str:
        if not isinstance(raw, str):
            raise ValueError(f"{name}: expected text, got {_shown(raw)}")
        return raw
    if isinstance(raw, str):
        invalid = ValueError(f"{name}: {_shown(raw)} is not a valid {kind.__name__}")
        # Python's int() and float() also take "1_0", non-ASCII digits and "nan": not settings.
        if not (_DECIMAL if kind is float else _INTEGER).fullmatch(raw.strip()):
            raise invalid
        try:
            return float(raw.strip()) if kind is float else int(raw.strip())
        except ValueError:  # int() refuses more than 4300 digits
            raise invalid from None
    if kind is int and isinstance(raw, float) and raw.is_integer():
        return int(raw)
    if kind is float and isinstance(raw, int):
        # float() of a huge int raises OverflowError; it is simply out of range.
        return float(raw) if abs(raw) < 2**1000 else (math.inf if raw > 0 else -math.inf)
    return raw


def _check(name: str, param: Param, value: Any) -> None:
    if param.kind is bool:
        if not isinstance(value, bool):
            raise ValueError(f"{name}: expected true or false, got {_shown(value)}")
        return
    if isinstance(value, bool) or not isinstance(value, param.kind):
        raise ValueError(f"{name}: expected a {param.kind.__name__}, got {_shown(value)}")
    if param.choices:
        if value not in param.choices:
            raise ValueError(f"{name}: {_shown(value)} is not {param.describe_range()}")
        return
    # Range first: NaN fails it, and isfinite() of a huge int raises OverflowError.
    if not param.low <= value <= param.high or not math.isfinite(value):
        raise ValueError(f"{name}: {_shown(value)} is not {param.describe_range()}")


@dataclass(frozen=True)
class Pacing(Settings):
    """Steps per tick and seconds between ticks while the page plays."""

    steps_per_tick: int = _param(
        100, label="Steps per tick", group="Run", live=True, low=1, high=500,
        help="Training steps per screen update while playing.")
    tick_seconds: float = _param(
        0.25, label="Tick interval (s)", group="Run", live=True, low=0.1, high=5.0, step=0.05,
        help="Seconds between screen updates while playing.")


PRESETS: dict[str, GANConfig] = {
    "tutorial": GANConfig(),
    # The tutorial's quality (in band >= 0.93, W1 <= 0.05) within 2,000 steps, seeds 0-9.
    "fast": GANConfig(lr_g=3e-3, lr_d=1e-3, beta1=0.0, beta2=0.9, batch_size=128,
                      loss="non_saturating"),
    # The lowest W1 found at any budget: W1 <= 0.025, in band >= 0.97 at 12,000 steps.
    "best": GANConfig(lr_g=5e-4, lr_d=1e-4, beta1=0.5, loss="non_saturating"),
    # Converges over the widest range of learning rates found (benchmarks/stabilizers.py
    # search): R1 and R2 with Adam's beta1 at 0.5, here at learning rates in the middle of
    # the range where it converges; the tutorial's quality in the tutorial's 10,000 steps.
    "stable": GANConfig(lr_g=1e-3, lr_d=1e-3, beta1=0.5, r1=10.0, r2=10.0),
    # The tutorial's sequel, 406_conditional_GAN.py: its settings, G asked for a class.
    "conditional": GANConfig(conditional=True),
}
"""Named starting points, found by ``benchmarks/presets.py --search``; every value is one the
page's sliders offer. ``tests/test_presets.py`` holds each to its promise."""
