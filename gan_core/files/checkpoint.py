"""Checkpoints: plain PyTorch files that resume a run exactly, and that are safe to take from
strangers.

Format ``gan-curve-lab/2`` is ``torch.save`` of one dict, which ``torch.load(f,
weights_only=True)`` opens. With ``L``, ``H``, ``N`` the config's ``latent_dim``, ``hidden`` and
``n_points``, ``C`` the label columns of a conditional run (``"conditional": True``: 1 for the
two classes of every built-in target, see ``gan_core.gan.labels``; 0 otherwise), and every tensor
float32 unless said otherwise:

- ``"format"``: ``"gan-curve-lab/2"``.
- ``"config"``: ``GANConfig.to_mapping()``, every hyperparameter by name (plain values).
- ``"G"``: the state dict of ``nn.Sequential(nn.Linear(L + C, H), nn.ReLU(), nn.Linear(H,
  N))``: ``0.weight`` (H, L + C), ``0.bias`` (H,), ``2.weight`` (N, H), ``2.bias`` (N,). A
  conditional G reads the noise, then the label: ``G(torch.cat((z, labels), 1))``.
- ``"D"``: the state dict of ``nn.Sequential(nn.Linear(N + C, H), nn.ReLU(), nn.Linear(H, 1),
  nn.Sigmoid())`` (no Sigmoid for the wasserstein critic: the same entries): ``0.weight`` (H,
  N + C), ``0.bias`` (H,), ``2.weight`` (1, H), ``2.bias`` (1,). A conditional D reads the
  curve, then its label. With ``spectral_norm`` on, that of the same module with
  ``torch.nn.utils.parametrizations.spectral_norm`` on both ``Linear`` layers: ``0.bias``,
  ``0.parametrizations.weight.original`` (H, N + C, the weight before normalisation),
  ``0.parametrizations.weight.0._u`` (H,) and ``._v`` (N + C,), the power iteration's
  vectors, and the same for layer 2 (``_u`` (1,), ``_v`` (H,)).
- ``"opt_G"``, ``"opt_D"``: state dicts of ``torch.optim.Adam(params, lr, betas, eps=1e-8)``
  or ``torch.optim.SGD(params, lr, momentum)`` (the config's ``optimizer``) over those modules'
  ``parameters()``. Per parameter (keys 0-3, in ``0.weight, 0.bias, 2.weight, 2.bias`` order, or
  with spectral normalisation torch's order there, ``0.bias,
  0.parametrizations.weight.original, 2.bias, 2.parametrizations.weight.original``), Adam's
  ``step`` (shape ()), ``exp_avg`` and ``exp_avg_sq``, or SGD's ``momentum_buffer``, each
  of the parameter's shape; no entries before the first update. One param group, holding the
  config's learning rate and betas or momentum: ``load_state_dict`` and ``step()`` go on as the
  lab would.
- ``"optimizer_steps"``: ``{"G": int, "D": int}``, the updates each optimizer took (the lab's
  Adam bias correction; torch's SGD keeps no count).
- ``"step"``: int, training steps taken.
- ``"rng"``: the training stream's state, ``np.random.default_rng(seed).bit_generator.state``
  (a dict of text and integers).
- ``"history"``: ``{"train": S, "eval": S}``, each ``S = {"steps": int64 (n,), "rows": float64
  (n, c), "stride": int, "columns": [c names]}`` (``gan_core.gan.history.Series.state()``; the
  columns of ``History.TRAIN_COLUMNS`` and ``History.eval_columns``, which a run of your
  data or with classes has its own of; files written before columns were named hold the
  leading ones).
- ``"schedule"`` (optional): the run's changes in order, each ``{"step": int, "values":
  {name: value}, "before": {name: value}}`` (``gan_core.gan.schedule.Change.to_plain``).
- ``"data"`` (a run of target ``"data"`` only, and always there): the curves it learns,
  ``{"kind": "rows" | "between" | "around", "values": float64 (m, N), "x": float64 (N,),
  "noise": float, "name": str, "notes": [str], "layout": [int, int], "labels": [str]
  (optional)}``: the fields of ``gan_core.data.Curves``, in their own units; at most
  ``Curves``'s 10,000 curves.

For example::

    ckpt = torch.load("gan-curve-lab.pt", weights_only=True)
    c = ckpt["config"]
    C = 1 if c.get("conditional") else 0  # a conditional run's label column (two classes)
    G = nn.Sequential(nn.Linear(c["latent_dim"] + C, c["hidden"]), nn.ReLU(),
                      nn.Linear(c["hidden"], c["n_points"]))
    G.load_state_dict(ckpt["G"])
    opt_G = torch.optim.Adam(G.parameters(), lr=c["lr_g"], betas=(c["beta1"], c["beta2"]))
    opt_G.load_state_dict(ckpt["opt_G"])

Files saved before this format, ``gan-curve-lab/1``, still load and resume exactly: the same
``config`` (with the page's pacing fields, ignored), ``step``, ``rng`` and ``history``, and
``"nets": {"g": W, "d": W}`` with ``W = {"params", "m", "v"}`` (the engine's flat float32 weights
and moments) and ``"t"`` (int).

Reading a file never runs code from it and never allocates much more than its size:
:mod:`gan_core.files.torch_file` checks its zip directory and runs its pickle on a machine that
builds no tensor; every entry is then compared with what the file's own config implies (exact
key sets, dtypes, shapes, one contiguous storage per tensor holding exactly its bytes, bounded
plain data); only then are arrays copied out. Any failure is a :class:`CheckpointError` naming the
entry.
"""

from __future__ import annotations

import os
from typing import Any, BinaryIO

import numpy as np

from ..data.curves import KINDS, MAX_CLASSES, MAX_CURVES, Curves, DataError
from ..gan.config import GANConfig, Pacing, _shown
from ..gan.engine import ADAM_EPS, NetState, mlp_layout
from ..gan.history import History
from ..gan.labels import label_width
from ..gan.schedule import changes_from_plain, changes_to_plain
from ..gan.state import RunState
from ..gan.targets import Target, data_target
from ..threads import import_torch
from .layout import (
    PARAMETER_NAMES,
    SPECTRAL_NAMES,
    from_named,
    network_sizes,
    parameter_names,
    sizes_with_labels,
    to_named,
    vector_shapes,
    vectors_from_named,
    vectors_to_named,
)
from .torch_file import FLOAT32, FLOAT64, INT64, TensorRef, TorchFile, TorchFileError
from .torch_modules import new_optimizer

FORMAT = "gan-curve-lab/2"
FORMAT_V1 = "gan-curve-lab/1"
MAX_BYTES = 16 * 2**20
"""Far above any valid checkpoint (the largest allowed model is ~2 MB), far below harm."""
PACING_KEYS = tuple(Pacing.params())
"""Files written before pacing left the config carry its fields there; they are ignored."""
NETS = ("G", "D")
MAX_PLAIN_DEPTH = 32
MAX_PLAIN_ITEMS = 50_000
MAX_DATA_TEXT = 500
"""Longest name or note of the curves a checkpoint carries (a note says what reading a file
left out, in a sentence)."""
MAX_DATA_NOTES = 20
"""Bounds on plain data (the rng, param groups, a schedule): a pickle can share one list many
times over, so a walk counts what it visits rather than trusting the opcode count."""


class CheckpointError(ValueError):
    """The file is not a checkpoint this version can load; nothing was changed."""


# -- writing ----------------------------------------------------------------------------------


def write_checkpoint(state: RunState, f: str | os.PathLike | BinaryIO) -> None:
    """Save ``state`` in format ``gan-curve-lab/2`` (see the module docstring)."""
    torch = import_torch()

    config = state.config
    sizes = network_sizes(config, _classes_of(config, state.data))
    contents: dict[str, Any] = {"format": FORMAT, "config": config.to_mapping(),
                                "step": state.step}
    for name, net, lr in (("G", state.g, config.lr_g), ("D", state.d, config.lr_d)):
        spectral = name == "D" and config.spectral_norm
        named = _tensors(to_named(net.params, sizes[name], spectral))
        # The optimizer torch builds over these parameters gives its param group as torch
        # writes it; fresh modules would do too, but their initialisation draws from torch's
        # global random stream, which saving must leave alone.
        parameters = torch.nn.ParameterList(
            torch.nn.Parameter(named[key]) for key in parameter_names(spectral))
        if spectral:
            named |= _tensors(vectors_to_named(net.vectors, sizes[name]))
        contents[name] = named
        optimizer = new_optimizer(config, parameters, lr).state_dict()
        optimizer["state"] = _optimizer_state(config.optimizer, net, sizes[name], spectral)
        contents[f"opt_{name}"] = optimizer
    contents["optimizer_steps"] = {"G": state.g.t, "D": state.d.t}
    contents["rng"] = state.rng
    contents["history"] = {name: {"steps": torch.from_numpy(np.asarray(s["steps"], np.int64)),
                                  "rows": torch.from_numpy(np.asarray(s["rows"], np.float64)),
                                  "stride": int(s["stride"]),
                                  "columns": [str(c) for c in s["columns"]]}
                           for name, s in state.history.items()}
    if state.changes:
        contents["schedule"] = changes_to_plain(state.changes)
        _plain(contents["schedule"], "schedule")
    if state.data is not None:
        contents["data"] = _data_entry(state.data)
    torch.save(contents, f)


def _data_entry(data: Curves) -> dict[str, Any]:
    torch = import_torch()
    entry: dict[str, Any] = {
        "kind": data.kind, "values": torch.from_numpy(np.array(data.values, np.float64)),
        "x": torch.from_numpy(np.array(data.x, np.float64)), "noise": float(data.noise),
        "name": data.name[:MAX_DATA_TEXT],
        "notes": [note[:MAX_DATA_TEXT] for note in data.notes[:MAX_DATA_NOTES]],
        "layout": list(data.layout)}
    if data.labels is not None:
        entry["labels"] = list(data.labels)
    return entry


def _optimizer_state(kind: str, net: NetState, sizes: tuple[int, int, int],
                     spectral: bool) -> dict:
    """torch's per-parameter optimizer state for the engine's moments (none before a step)."""
    torch = import_torch()
    if net.t == 0:
        return {}
    first, second = to_named(net.m, sizes, spectral), to_named(net.v, sizes, spectral)
    names = parameter_names(spectral)
    if kind == "adam":
        return {i: {"step": torch.tensor(float(net.t), dtype=torch.float32),
                    "exp_avg": torch.from_numpy(first[name]),
                    "exp_avg_sq": torch.from_numpy(second[name])}
                for i, name in enumerate(names)}
    return {i: {"momentum_buffer": torch.from_numpy(first[name])}
            for i, name in enumerate(names)}


def _tensors(arrays: dict[str, np.ndarray]) -> dict[str, Any]:
    torch = import_torch()
    return {name: torch.from_numpy(np.ascontiguousarray(a)) for name, a in arrays.items()}


# -- reading ----------------------------------------------------------------------------------


def read_checkpoint(f: str | os.PathLike | BinaryIO) -> RunState:
    """The run a checkpoint holds; ``CheckpointError`` for anything that is not one."""
    data = _read_capped(f)
    try:
        file = TorchFile(data)
    except TorchFileError as exc:
        raise CheckpointError(f"not a GAN Curve Lab checkpoint: {exc}") from None
    top = file.contents
    kind = top.get("format") if type(top) is dict else None
    if kind not in (FORMAT, FORMAT_V1):
        raise CheckpointError(f"not a GAN Curve Lab checkpoint (expected format {FORMAT!r})")
    try:
        config = _config(top, drop=PACING_KEYS if kind == FORMAT_V1 else ())
        check, build = (_check_v2, _build_v2) if kind == FORMAT else (_check_v1, _build_v1)
        check(file, top, config)
        file.check_all_used()
        return build(file, top, config)
    except TorchFileError as exc:
        raise CheckpointError(f"not a valid checkpoint: {exc}") from None


def _read_capped(f: str | os.PathLike | BinaryIO) -> bytes:
    if isinstance(f, (str, os.PathLike)):
        with open(f, "rb") as fh:
            data = fh.read(MAX_BYTES + 1)
    else:
        data = f.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        raise CheckpointError(f"file is larger than {MAX_BYTES // 2**20} MB: not a checkpoint")
    return data


def _config(top: dict, drop: tuple[str, ...]) -> GANConfig:
    if "config" not in top:
        raise TorchFileError("config is missing")
    values = top["config"]
    if type(values) is not dict:
        raise TorchFileError("config is not a mapping")
    for key, value in values.items():
        if value is not None and type(value) not in (bool, int, float, str):
            raise TorchFileError(f"config: {_shown(key)} is not a plain value")
    try:
        return GANConfig.from_mapping({k: v for k, v in values.items() if k not in drop})
    except ValueError as exc:
        raise TorchFileError(f"config: {exc}") from None


# -- what a file must hold, checked before any array is read -------------------------------------


def _check_v2(file: TorchFile, top: dict, config: GANConfig) -> None:
    _entries(top, "", ("format", "config", "step", *NETS, "opt_G", "opt_D", "optimizer_steps",
                       "rng", "history"), optional=("schedule", "data"))
    _count(top["step"], "step")
    steps = _entries(top["optimizer_steps"], "optimizer_steps", NETS)
    _check_data(file, top, config)  # first: a conditional run's network sizes follow its labels
    sizes = _sizes(top, config)
    for name, lr in zip(NETS, (config.lr_g, config.lr_d), strict=True):
        t = _count(steps[name], f"optimizer_steps: {name}")
        spectral = name == "D" and config.spectral_norm
        shapes = _parameter_shapes(sizes[name], spectral)
        vectors = vector_shapes(sizes[name]) if spectral else {}
        params = _entries(top[name], name, (*shapes, *vectors))
        for key, shape in (shapes | vectors).items():
            file.check_tensor(params[key], f"{name}: {key}", FLOAT32, shape)
        _check_optimizer(file, top[f"opt_{name}"], f"opt_{name}", config, lr, t, shapes)
    _check_history(file, top["history"], config)
    _check_rng(top["rng"])
    if "schedule" in top:
        if type(top["schedule"]) is not list:
            raise TorchFileError("schedule is not a list")
        _plain(top["schedule"], "schedule")


def _classes_of(config: GANConfig, data: Curves | None) -> Target | None:
    """The target whose classes a conditional run of your data has (None for other runs)."""
    return data_target(data) if data is not None and config.conditional else None


def _sizes(top: dict, config: GANConfig) -> dict[str, tuple[int, int, int]]:
    """The network sizes of a file's run, before any array is read: a conditional run of
    your data has the label columns of its curves' distinct labels (2 to ``MAX_CLASSES``)."""
    if not (config.conditional and config.target == "data"):
        return network_sizes(config)
    labels = top["data"].get("labels") or []
    distinct = len(set(labels))
    if not 2 <= distinct <= MAX_CLASSES:
        raise TorchFileError(f"data: a conditional run of your curves has 2 to {MAX_CLASSES} "
                             f"labels, not {distinct}")
    return sizes_with_labels(config, label_width(distinct))


def _check_data(file: TorchFile, top: dict, config: GANConfig) -> None:
    """A run of target "data" carries its curves, sized by the config; no other run does."""
    if (config.target == "data") != ("data" in top):
        raise TorchFileError("data is missing: a run of target 'data' carries the curves it "
                             "learns" if "data" not in top else
                             f"data: a run of target {config.target!r} learns no curves of its "
                             "own")
    if "data" not in top:
        return
    entry = _entries(top["data"], "data", ("kind", "values", "x", "noise", "name", "notes",
                                           "layout"), optional=("labels",))
    layout = entry["layout"]
    if type(layout) is not list or len(layout) != 2 or not all(
            type(v) is int and v in (0, 1) for v in layout):
        raise TorchFileError(f"data: layout is {_shown(layout)}, not two counts of 0 or 1")
    if type(entry["kind"]) is not str or entry["kind"] not in KINDS:
        raise TorchFileError(f"data: kind is {_shown(entry['kind'])}, not one of "
                             f"{', '.join(KINDS)}")
    values = entry["values"]
    if not isinstance(values, TensorRef) or len(values.shape) != 2:
        raise TorchFileError("data: values is not a table (a two-dimensional tensor)")
    m, n = values.shape
    if n != config.n_points or not 1 <= m <= MAX_CURVES:
        raise TorchFileError(f"data: values has shape {values.shape}; expected 1 to "
                             f"{MAX_CURVES:,} curves of the config's {config.n_points} points")
    file.check_tensor(values, "data: values", FLOAT64, (m, n))
    file.check_tensor(entry["x"], "data: x", FLOAT64, (n,))
    if type(entry["noise"]) not in (int, float):
        raise TorchFileError(f"data: noise is {_shown(entry['noise'])}, not a number")
    texts = [("name", [entry["name"]], 1), ("notes", entry["notes"], MAX_DATA_NOTES)]
    if "labels" in entry:
        texts.append(("labels", entry["labels"], m))
    for key, items, most in texts:
        if key != "name" and type(items) is not list:
            raise TorchFileError(f"data: {key} is not a list")
        if len(items) > most or not all(
                type(t) is str and len(t) <= MAX_DATA_TEXT for t in items):
            raise TorchFileError(f"data: {key} is not at most {most:,} texts of at most "
                                 f"{MAX_DATA_TEXT} characters")


def _check_v1(file: TorchFile, top: dict, config: GANConfig) -> None:
    _entries(top, "", ("format", "config", "step", "nets", "rng", "history"))
    _count(top["step"], "step")
    nets = _entries(top["nets"], "nets", ("g", "d"))
    for name, sizes in zip(("g", "d"), network_sizes(config).values(), strict=True):
        net = _entries(nets[name], f"nets: {name}", ("params", "m", "v", "t"))
        size = mlp_layout(sizes)[1]
        for key in ("params", "m", "v"):
            file.check_tensor(net[key], f"nets: {name}: {key}", FLOAT32, (size,))
        _count(net["t"], f"nets: {name}: t")
    _check_history(file, top["history"], config)
    _check_rng(top["rng"])


def _parameter_shapes(sizes: tuple[int, int, int],
                      spectral: bool = False) -> dict[str, tuple[int, ...]]:
    """torch's shapes of ``0.weight, 0.bias, 2.weight, 2.bias`` for layer sizes in, hidden,
    out, by name in ``parameters()`` order (plain, or spectrally normalised)."""
    n_in, hidden, n_out = sizes
    plain = dict(zip(PARAMETER_NAMES, ((hidden, n_in), (hidden,), (n_out, hidden), (n_out,)),
                     strict=True))
    if not spectral:
        return plain
    return dict(zip(SPECTRAL_NAMES, (plain["0.bias"], plain["0.weight"], plain["2.bias"],
                                     plain["2.weight"]), strict=True))


def _check_optimizer(file: TorchFile, value: Any, where: str, config: GANConfig, lr: float,
                     t: int, shapes: dict[str, tuple[int, ...]]) -> None:
    """``shapes``: the parameters' shapes by name, in ``parameters()`` order."""
    names = tuple(shapes)
    optimizer = _entries(value, where, ("state", "param_groups"))
    state = optimizer["state"]
    if type(state) is not dict:
        raise TorchFileError(f"{where}: state is not a mapping")
    if t == 0 and state:
        raise TorchFileError(f"{where}: state is not empty, but optimizer_steps says it took "
                             "no step")
    keys = ("step", "exp_avg", "exp_avg_sq") if config.optimizer == "adam" \
        else ("momentum_buffer",)
    if t:
        _entries(state, f"{where}: state", range(len(names)), names=dict(enumerate(names)))
        for i, name in enumerate(names):
            entry = _entries(state[i], f"{where}: state of {name}", keys)
            for key in keys:
                file.check_tensor(entry[key], f"{where}: state of {name}: {key}", FLOAT32,
                                  () if key == "step" else shapes[name])
    groups = optimizer["param_groups"]
    if type(groups) is not list or len(groups) != 1 or type(groups[0]) is not dict:
        raise TorchFileError(f"{where}: param_groups is not one group")
    group = groups[0]
    _plain(group, f"{where}: param_groups")
    if config.optimizer == "adam":
        expected = {"lr": lr, "betas": (config.beta1, config.beta2), "eps": ADAM_EPS,
                    "weight_decay": 0, "amsgrad": False, "maximize": False}
    else:
        expected = {"lr": lr, "momentum": config.momentum, "dampening": 0, "nesterov": False,
                    "weight_decay": 0, "maximize": False}
    expected["params"] = list(range(len(names)))
    for key, want in expected.items():
        if key not in group:
            raise TorchFileError(f"{where}: param_groups: {key} is missing")
        got = tuple(group[key]) if key == "betas" and type(group[key]) is list else group[key]
        if got != want:
            raise TorchFileError(f"{where}: param_groups: {key} is {_shown(got)}, but the "
                                 f"config says {want!r}")


def _check_history(file: TorchFile, value: Any, config: GANConfig) -> None:
    history = _entries(value, "history", ("train", "eval"))
    reference = History(config.conditional, data=config.target == "data")
    for name, series in (("train", reference.train), ("eval", reference.eval)):
        where = f"history: {name}"
        entry = _entries(history[name], where, ("steps", "rows", "stride"),
                         optional=("columns",))
        steps = entry["steps"]
        if not isinstance(steps, TensorRef) or len(steps.shape) != 1:
            raise TorchFileError(f"{where}: steps is not a one-dimensional tensor")
        n = steps.shape[0]
        if n > series.capacity:
            raise TorchFileError(f"{where}: steps holds {n:,} rows; the series keeps at most "
                                 f"{series.capacity:,}")
        file.check_tensor(steps, f"{where}: steps", INT64, (n,))
        file.check_tensor(entry["rows"], f"{where}: rows", FLOAT64,
                          (n, _history_width(entry, series.columns, where)))
        _count(entry["stride"], f"{where}: stride", minimum=1)


def _history_width(entry: dict, known: tuple[str, ...], where: str) -> int:
    """How many columns a saved series has: its named columns (each one this version
    records, none twice), or without names (files from before columns were named) as many as
    its rows have, the leading columns in order, up to this version's."""
    if "columns" not in entry:
        rows = entry["rows"]
        width = rows.shape[-1] if isinstance(rows, TensorRef) and len(rows.shape) == 2 else 0
        if not 1 <= width <= len(known):
            raise TorchFileError(f"{where}: rows is not a table of 1 to {len(known)} columns")
        return width
    columns = entry["columns"]
    if type(columns) is not list or not all(type(c) is str for c in columns):
        raise TorchFileError(f"{where}: columns is not a list of names")
    unknown = [c for c in columns if c not in known]
    if unknown or len(set(columns)) != len(columns) or not columns:
        raise TorchFileError(f"{where}: columns {_shown(columns)} are not distinct names of "
                             f"{', '.join(known)}")
    return len(columns)


def _check_rng(value: Any) -> None:
    """The training stream's state, tried on a scratch generator of the kind the lab uses."""
    _plain(value, "rng")
    try:
        np.random.PCG64().state = value
    except (ValueError, TypeError, KeyError, OverflowError) as exc:
        raise TorchFileError(f"rng: {exc}") from None


# -- small checks ------------------------------------------------------------------------------


def _entries(value: Any, where: str, required: Any, optional: Any = (),
             names: dict | None = None) -> dict:
    """``value`` as a dict holding exactly the ``required`` keys and perhaps ``optional`` ones;
    ``names`` spell keys in messages."""
    prefix = f"{where}: " if where else ""
    if type(value) is not dict:
        raise TorchFileError(f"{where or 'the checkpoint'} is not a mapping")
    names = names or {}
    for key in required:
        if key not in value:
            raise TorchFileError(f"{prefix}{names.get(key, key)} is missing")
    allowed = {*required, *optional}
    for key in value:
        if key not in allowed:
            raise TorchFileError(f"{prefix}unexpected entry {_shown(key)}")
    return value


def _count(value: Any, where: str, minimum: int = 0) -> int:
    if type(value) is not int or value < minimum:
        raise TorchFileError(f"{where} is {_shown(value)}, not a count of at least {minimum}")
    return value


def _plain(value: Any, where: str) -> None:
    """``value`` is text, numbers, None, and lists, tuples and dicts of them, at most
    ``MAX_PLAIN_DEPTH`` deep and ``MAX_PLAIN_ITEMS`` in all (walked without recursion)."""
    pending, seen = [(value, 0)], 0
    while pending:
        item, depth = pending.pop()
        seen += 1
        if seen > MAX_PLAIN_ITEMS:
            raise TorchFileError(f"{where} holds over {MAX_PLAIN_ITEMS:,} values")
        if item is None or type(item) in (bool, int, float, str):
            continue
        if type(item) not in (list, tuple, dict):
            kind = "a tensor" if isinstance(item, TensorRef) else type(item).__name__
            raise TorchFileError(f"{where} holds {kind} where plain data belongs")
        if depth == MAX_PLAIN_DEPTH:
            raise TorchFileError(f"{where} is nested over {MAX_PLAIN_DEPTH} deep")
        children = item.values() if type(item) is dict else item
        pending.extend((child, depth + 1) for child in children)


# -- the run, from checked entries ---------------------------------------------------------------


def _build_v2(file: TorchFile, top: dict, config: GANConfig) -> RunState:
    data = _data(file, top.get("data"))
    if data is not None and config.conditional and data.class_reason is not None:
        raise CheckpointError(f"data: {data.class_reason}")
    sizes = _sizes(top, config)
    nets = []
    for name in NETS:
        t, size = top["optimizer_steps"][name], sizes[name]
        spectral = name == "D" and config.spectral_norm
        names = parameter_names(spectral)
        arrays = {k: file.array(v) for k, v in top[name].items()}
        params = from_named(arrays, size, spectral)
        vectors = vectors_from_named(arrays, size) if spectral else None
        state = top[f"opt_{name}"]["state"]
        zeros = np.zeros_like(params)
        if not t:
            m, v = zeros, zeros.copy()
        elif config.optimizer == "adam":
            for i, key in enumerate(names):
                step = float(file.array(state[i]["step"]))
                if step != float(np.float32(t)):
                    raise TorchFileError(f"opt_{name}: state of {key}: step is {step:g}, but "
                                         f"optimizer_steps says {t}")
            m, v = (from_named({key: file.array(state[i][moment])
                                for i, key in enumerate(names)}, size, spectral)
                    for moment in ("exp_avg", "exp_avg_sq"))
        else:
            m = from_named({key: file.array(state[i]["momentum_buffer"])
                            for i, key in enumerate(names)}, size, spectral)
            v = zeros
        nets.append(NetState(params, m, v, t, vectors))
    return _run_state(config, top, nets[0], nets[1], _history(file, top["history"]),
                      top.get("schedule", []), data)


def _data(file: TorchFile, entry: dict | None) -> Curves | None:
    """The curves of a checked ``data`` entry, checked again as any curves are."""
    if entry is None:
        return None
    try:
        return Curves(entry["kind"], file.array(entry["values"]), file.array(entry["x"]),
                      noise=entry["noise"], labels=entry.get("labels"), name=entry["name"],
                      notes=tuple(entry["notes"]), layout=tuple(entry["layout"]))
    except DataError as exc:
        raise CheckpointError(f"data: {exc}") from None


def _build_v1(file: TorchFile, top: dict, config: GANConfig) -> RunState:
    g, d = (NetState(*(file.array(top["nets"][name][key]) for key in ("params", "m", "v")),
                     top["nets"][name]["t"]) for name in ("g", "d"))
    return _run_state(config, top, g, d, _history(file, top["history"]), [])


def _history(file: TorchFile, history: dict) -> dict[str, dict]:
    return {name: {"steps": file.array(s["steps"]), "rows": file.array(s["rows"]),
                   "stride": s["stride"],
                   **({"columns": s["columns"]} if "columns" in s else {})}
            for name, s in history.items()}


def _run_state(config: GANConfig, top: dict, g: NetState, d: NetState,
               history: dict[str, dict], schedule: list, data: Curves | None = None) -> RunState:
    """The run state, with the run's changes read from the file's plain schedule (checked
    against the run by ``Trainer.from_state``)."""
    try:
        changes = changes_from_plain(schedule)
    except ValueError as exc:
        raise CheckpointError(f"schedule: {exc}") from None
    return RunState(config=config, step=top["step"], g=g, d=d, rng=top["rng"],
                    history=history, changes=changes, data=data)
