"""GANConfig: tutorial defaults, self-describing fields, and strict parsing of outside input.

A config arrives from a shareable URL, a form or a checkpoint, so ``from_mapping`` must take the
strings those carry, and must refuse everything else with a message that names the field.
"""

from __future__ import annotations

import dataclasses
import json
import math
import re
import typing
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from gan_core import PRESETS, GANConfig, Pacing, Param
from gan_core.gan.config import GROUPS

PARAMS = GANConfig.params()
NUMERIC = [name for name, p in PARAMS.items() if not p.choices and p.kind is not bool]
TEXT = [name for name, p in PARAMS.items() if p.choices]
SWITCHES = [name for name, p in PARAMS.items() if p.kind is bool]
NEEDS_NEW_MODEL = {"latent_dim", "hidden", "n_points", "conditional", "target", "seed"}
PLAIN_INT = re.compile(r"[+-]?[0-9]+")
PLAIN_DECIMAL = re.compile(r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?")


def refusal(mapping: dict[str, Any]) -> str:
    """The message of the ValueError that ``from_mapping`` must raise."""
    with pytest.raises(ValueError) as info:
        GANConfig.from_mapping(mapping)
    return str(info.value)


def is_plain_number(text: str, kind: type) -> bool:
    pattern = PLAIN_INT if kind is int else PLAIN_DECIMAL
    return pattern.fullmatch(text.strip()) is not None


# -- defaults and descriptions -------------------------------------------------------------


def test_defaults_are_the_tutorials_hyperparameters() -> None:
    config = GANConfig()
    assert (config.lr_g, config.lr_d) == (1e-4, 1e-4)
    assert config.batch_size == 64
    assert (config.latent_dim, config.hidden, config.n_points) == (5, 128, 15)
    assert (config.loss, config.optimizer, config.d_steps) == ("minimax", "adam", 1)
    assert (config.beta1, config.beta2) == (0.9, 0.999)  # torch.optim.Adam's defaults
    assert config.target == "parabola"


def test_tutorial_preset_is_the_default_config() -> None:
    assert PRESETS["tutorial"] == GANConfig()


def test_the_conditional_preset_is_the_tutorials_settings_with_classes() -> None:
    assert PRESETS["conditional"] == GANConfig().replace(conditional=True)
    assert GANConfig().conditional is False


def test_a_switch_is_spelled_true_or_false_as_a_bound_toggle_writes_it_in_the_url() -> None:
    param = PARAMS["conditional"]
    assert SWITCHES == ["spectral_norm", "conditional"]
    assert param.group == "Model" and not param.live and PARAMS["spectral_norm"].live
    assert (param.format(True), param.format(False)) == ("true", "false")
    assert param.offers(True) and param.offers(False)
    for raw, value in (("true", True), ("false", False), ("True", True), (" FALSE ", False),
                       (True, True), (False, False)):
        assert GANConfig.from_mapping({"conditional": raw}).conditional is value
    for raw in ("1", "0", "yes", "", 1, 0, 1.0, None, [True]):
        assert "conditional: expected true or false" in refusal({"conditional": raw})
    with pytest.raises(ValueError, match="conditional: expected true or false"):
        GANConfig(conditional=1)  # type: ignore[arg-type]


def test_every_preset_is_a_valid_round_tripping_config() -> None:
    for config in PRESETS.values():
        assert GANConfig.from_mapping(config.to_mapping()) == config


@pytest.mark.parametrize("name", list(PARAMS))
def test_every_field_is_described_by_a_param(name: str) -> None:
    param = PARAMS[name]
    assert isinstance(param, Param)
    assert param.label.strip() and param.help.strip()
    assert param.group in GROUPS
    assert isinstance(param.live, bool)


@pytest.mark.parametrize("name", NUMERIC)
def test_numeric_fields_have_a_range_holding_their_default(name: str) -> None:
    param, default = PARAMS[name], getattr(GANConfig(), name)
    assert param.low is not None and param.high is not None and param.low < param.high
    assert param.low <= default <= param.high
    assert type(default) is PARAMS[name].kind


@pytest.mark.parametrize("name", TEXT)
def test_text_fields_offer_exactly_the_values_their_type_admits(name: str) -> None:
    hint = typing.get_type_hints(GANConfig)[name]
    assert PARAMS[name].choices == typing.get_args(hint)
    assert getattr(GANConfig(), name) in PARAMS[name].choices


def test_only_shapes_target_and_seed_need_a_new_model() -> None:
    assert {name for name, p in PARAMS.items() if not p.live} == NEEDS_NEW_MODEL


def test_fresh_fields_name_the_changes_a_running_model_cannot_take() -> None:
    config = GANConfig()
    assert config.fresh_fields(config.replace(lr_g=1e-3, loss="hinge")) == []
    assert config.fresh_fields(config.replace(lr_g=1e-3, hidden=64, seed=2)) == ["hidden", "seed"]
    assert config.fresh_fields(config) == []


def test_the_schema_gives_each_field_its_type_and_default() -> None:
    for name, param in PARAMS.items():
        assert param.kind is type(getattr(GANConfig(), name)) and param.default == getattr(
            GANConfig(), name)


@pytest.mark.parametrize(("name", "value", "offered"), [
    ("lr_g", 3e-4, True), ("lr_g", 4e-4, False), ("loss", "hinge", True),
    ("beta1", 0.5, True), ("beta1", 0.5004, False), ("beta2", 0.999, True),
    ("momentum", 0.95, True), ("momentum", 0.955, False), ("batch_size", 37, True),
    ("r1", 0.0, True), ("r1", 10.0, True), ("r1", 0.7, False), ("gp", 100.0, True),
    ("instance_noise", 0.05, True), ("instance_noise_steps", 0, True),
    ("instance_noise_steps", 5000, True), ("instance_noise_steps", 4000, False),
    ("real_label", 0.9, True), ("real_label", 0.93, False), ("spectral_norm", True, True),
])
def test_a_widget_offers_the_grid_of_a_log_setting_and_the_steps_of_a_linear_one(
        name: str, value: Any, offered: bool) -> None:
    assert PARAMS[name].offers(value) is offered


def test_a_setting_is_spelled_as_short_as_its_widget_spells_it() -> None:
    assert PARAMS["lr_g"].format(1e-3) == "0.001" and PARAMS["lr_g"].format(1e-5) == "1e-05"
    assert PARAMS["seed"].format(7) == "7" and PARAMS["loss"].format("hinge") == "hinge"
    assert PARAMS["beta1"].format(0.5) == "0.5"
    assert PARAMS["spectral_norm"].format(True) == "true"  # as Streamlit's toggle writes it
    assert PARAMS["r1"].format(0.0) == "0"


@pytest.mark.parametrize("name", SWITCHES)
def test_a_switch_is_off_by_default_and_reads_true_or_false_in_any_case(name: str) -> None:
    assert getattr(GANConfig(), name) is False
    assert getattr(GANConfig.from_mapping({name: "TRUE"}), name) is True
    assert getattr(GANConfig.from_mapping({name: "false"}), name) is False
    assert "true or false" in refusal({name: "on"})


def test_a_strength_that_zero_switches_off_offers_zero_then_its_log_grid() -> None:
    """Every stabilizer's strength is off at 0 (the tutorial has none); a slider offers 0 and
    then 1, 2, 3, 5 per decade; a sweep over it keeps 0 and spreads the rest in log."""
    for name in ("r1", "r2", "gp", "instance_noise"):
        assert getattr(GANConfig(), name) == 0.0
        grid = PARAMS[name].grid()
        assert grid[0] == 0.0 and grid[1] == PARAMS[name].least
    assert GANConfig().real_label == 1.0 and GANConfig().instance_noise_steps == 0
    assert PARAMS["r1"].spread(0.0, 10.0, 4) == (0.0, 0.001, 0.1, 10.0)
    assert PARAMS["r1"].spread(0.01, 10.0, 4) == (0.01, 0.1, 1.0, 10.0)
    assert PARAMS["instance_noise_steps"].grid()[:3] == (0, 100, 200)
    assert all(type(v) is int for v in PARAMS["instance_noise_steps"].grid())


def test_config_is_immutable() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        GANConfig().lr_g = 1.0  # type: ignore[misc]


def test_changed_fields_lists_what_differs_in_declaration_order() -> None:
    other = GANConfig(seed=3, lr_g=1e-3)
    assert GANConfig().changed_fields(other) == ["lr_g", "seed"]
    assert GANConfig().changed_fields(GANConfig()) == []


# -- parsing: examples ---------------------------------------------------------------------


def test_from_mapping_takes_the_strings_of_a_url() -> None:
    config = GANConfig.from_mapping(
        {"batch_size": "64", "lr_g": "0.001", "lr_d": "1e-3", "loss": "hinge", "seed": " 7 "})
    assert (config.batch_size, config.lr_g, config.lr_d) == (64, 0.001, 0.001)
    assert (config.loss, config.seed) == ("hinge", 7)
    assert type(config.batch_size) is int and type(config.lr_g) is float


def test_missing_keys_take_their_defaults() -> None:
    assert GANConfig.from_mapping({}) == GANConfig()
    assert GANConfig.from_mapping({"seed": 3}) == GANConfig(seed=3)


def test_numbers_are_taken_with_their_field_type() -> None:
    config = GANConfig.from_mapping({"lr_g": 1, "batch_size": 32.0})
    assert type(config.lr_g) is float and config.lr_g == 1.0
    assert type(config.batch_size) is int and config.batch_size == 32


INVALID = [
    ("batch_size", "abc"),
    ("batch_size", "64.5"),
    ("batch_size", 64.5),
    ("batch_size", "1e2"),
    ("batch_size", "6_4"),
    ("batch_size", "６４"),  # full-width digits, which int() would take
    ("batch_size", ""),
    ("batch_size", 4),
    ("batch_size", "4096"),
    ("batch_size", True),
    ("batch_size", None),
    ("batch_size", [64]),
    ("lr_g", "fast"),
    ("lr_g", -1e-4),
    ("lr_g", 0),
    ("lr_g", "100"),
    ("lr_g", float("nan")),
    ("lr_g", "nan"),
    ("lr_g", float("inf")),
    ("lr_g", "-inf"),
    ("lr_g", "Infinity"),
    ("lr_g", "1_0"),
    ("lr_g", 10**400),
    ("lr_g", False),
    ("seed", -1),
    ("seed", 2**31),
    ("seed", "9" * 400),
    ("loss", "earth_mover"),
    ("loss", "Hinge"),
    ("spectral_norm", "yes"),
    ("spectral_norm", "1"),
    ("spectral_norm", 1),
    ("spectral_norm", None),
    ("r1", -1.0),
    ("r1", "1e3"),
    ("instance_noise_steps", "-5"),
    ("real_label", 0.4),
    ("real_label", 1.1),
    ("loss", 1),
    ("loss", True),
    ("optimizer", None),
    ("target", ["sine"]),
]


@pytest.mark.parametrize(("name", "raw"), INVALID,
                         ids=[f"{name}={raw!r:.16}" for name, raw in INVALID])
def test_invalid_values_are_refused_with_the_field_named(name: str, raw: Any) -> None:
    assert name in refusal({name: raw})


def test_unknown_keys_are_refused_with_the_key_named() -> None:
    assert "learning_rate" in refusal({"learning_rate": "0.001"})
    assert "'lr'" in refusal({"lr_g": "0.001", "lr": 1})


def test_direct_construction_is_validated_without_coercion() -> None:
    with pytest.raises(ValueError, match="batch_size"):
        GANConfig(batch_size=64.0)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="lr_g"):
        GANConfig(lr_g="0.001")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="hidden"):
        GANConfig().replace(hidden=0)


def test_to_mapping_is_plain_json_and_from_mapping_inverts_it() -> None:
    config = GANConfig(lr_g=3e-4, loss="least_squares", target="sine", seed=11, d_steps=2)
    mapping = config.to_mapping()
    assert set(mapping) == set(PARAMS)
    assert GANConfig.from_mapping(json.loads(json.dumps(mapping))) == config
    assert GANConfig.from_mapping({k: str(v) for k, v in mapping.items()}) == config


# -- parsing: properties -------------------------------------------------------------------


def valid_value(name: str) -> st.SearchStrategy[Any]:
    """Any in-range value of a field, as a number or as the text a URL would carry."""
    param, kind = PARAMS[name], PARAMS[name].kind
    if param.choices:
        return st.sampled_from(param.choices)
    if kind is bool:
        return st.booleans() | st.sampled_from(["true", "false", "True", "FALSE"])
    if kind is int:
        number = st.integers(int(param.low), int(param.high))
    else:
        number = st.floats(param.low, param.high, allow_nan=False)
    return st.one_of(number, number.map(str))


def parsed(name: str, raw: Any) -> Any:
    """What a valid raw value means, worked out independently of ``from_mapping``."""
    if PARAMS[name].kind is bool:
        return raw if isinstance(raw, bool) else raw.lower() == "true"
    return PARAMS[name].kind(raw)


def out_of_range(name: str) -> st.SearchStrategy[Any]:
    param, kind = PARAMS[name], PARAMS[name].kind
    if kind is int:
        number = st.integers(max_value=int(param.low) - 1) | st.integers(min_value=int(param.high)
                                                                          + 1)
    else:
        number = (st.floats(max_value=param.low, exclude_max=True, allow_nan=False)
                  | st.floats(min_value=param.high, exclude_min=True, allow_nan=False)
                  | st.integers(min_value=int(param.high) + 1))
    return st.one_of(number, number.map(str))


def wrong_type(name: str) -> st.SearchStrategy[Any]:
    """Values of no acceptable type: bools, containers, None, and for an int a fraction."""
    others = st.one_of(st.booleans(), st.none(), st.lists(st.integers(), max_size=2),
                       st.dictionaries(st.text(max_size=2), st.integers(), max_size=1))
    if PARAMS[name].kind is bool:  # a switch takes true or false, not numbers or containers
        return st.one_of(st.none(), st.integers(), st.floats(), st.lists(st.booleans(),
                                                                         max_size=2))
    if PARAMS[name].choices:
        return others | st.integers() | st.floats()
    if PARAMS[name].kind is bool:  # a switch is true or false, nothing else
        return st.one_of(st.none(), st.integers(), st.floats(), st.lists(st.booleans(),
                                                                         max_size=2))
    if PARAMS[name].kind is int:
        fraction = st.floats(allow_nan=False, allow_infinity=False).filter(
            lambda v: not v.is_integer())
        return others | fraction | fraction.map(str)
    return others


def garbage_text(name: str) -> st.SearchStrategy[str]:
    """Text that is not a plain decimal number (or for a choice field, not a choice)."""
    if PARAMS[name].choices:
        return st.text().filter(lambda s: s not in PARAMS[name].choices)
    if PARAMS[name].kind is bool:
        return st.text().filter(lambda s: s.strip().lower() not in ("true", "false"))
    kind = PARAMS[name].kind
    return st.text().filter(lambda s: not is_plain_number(s, kind))


valid_mappings = st.fixed_dictionaries({}, optional={name: valid_value(name) for name in PARAMS})


@settings(max_examples=150)
@given(valid_mappings)
def test_every_valid_mapping_is_accepted_and_round_trips(mapping: dict[str, Any]) -> None:
    config = GANConfig.from_mapping(mapping)
    for name, raw in mapping.items():
        assert getattr(config, name) == parsed(name, raw)
        assert type(getattr(config, name)) is PARAMS[name].kind
    assert GANConfig.from_mapping(config.to_mapping()) == config
    assert GANConfig.from_mapping({k: str(v) for k, v in config.to_mapping().items()}) == config


@given(valid_mappings, st.text(min_size=1).filter(lambda k: k not in PARAMS), st.integers())
def test_any_unknown_key_is_refused_and_named(mapping: dict[str, Any], key: str,
                                              value: int) -> None:
    assert repr(key) in refusal({**mapping, key: value})


@st.composite
def invalid_entry(draw: st.DrawFn, kinds: tuple[str, ...]) -> tuple[str, Any]:
    name = draw(st.sampled_from(NUMERIC if kinds == ("range",) else list(PARAMS)))
    makers = {"range": out_of_range, "type": wrong_type, "garbage": garbage_text}
    kind = draw(st.sampled_from(kinds))
    return name, draw(makers[kind](name))


@settings(max_examples=150)
@given(valid_mappings, invalid_entry(("range",)))
@example({}, ("lr_g", 10**400))
@example({}, ("seed", "9" * 400))
@example({}, ("lr_g", math.inf))
def test_any_out_of_range_value_is_refused_and_named(mapping: dict[str, Any],
                                                     entry: tuple[str, Any]) -> None:
    name, raw = entry
    assert name in refusal({**mapping, name: raw})


@settings(max_examples=150)
@given(valid_mappings, invalid_entry(("type", "garbage")))
@example({}, ("lr_g", "nan"))
@example({}, ("lr_g", "1_0"))
@example({}, ("batch_size", "٦٤"))  # Arabic-Indic digits
@example({}, ("batch_size", "64.0"))
def test_any_value_of_the_wrong_type_or_garbage_text_is_refused_and_named(
        mapping: dict[str, Any], entry: tuple[str, Any]) -> None:
    name, raw = entry
    assert name in refusal({**mapping, name: raw})


# -- pacing: the page's own schema -----------------------------------------------------------


def test_pacing_is_not_part_of_a_run() -> None:
    assert not set(Pacing.params()) & set(PARAMS)
    assert Pacing() == Pacing(steps_per_tick=100, tick_seconds=0.25)


@pytest.mark.parametrize(("name", "raw"), [("steps_per_tick", "0"), ("steps_per_tick", "1e2"),
                                           ("tick_seconds", "inf"), ("tick_seconds", "0.01"),
                                           ("tick_seconds", "nan")])
def test_pacing_parses_and_refuses_like_a_config(name: str, raw: str) -> None:
    with pytest.raises(ValueError, match=name):
        Pacing.from_mapping({name: raw})


@given(st.integers(1, 500), st.integers(2, 100))
def test_every_valid_pacing_round_trips_through_text(steps: int, twentieths: int) -> None:
    pacing = Pacing(steps_per_tick=steps, tick_seconds=round(twentieths * 0.05, 2))
    assert Pacing.from_mapping({k: str(v) for k, v in pacing.to_mapping().items()}) == pacing
