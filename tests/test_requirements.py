"""requirements.txt installs the CPU build of torch and every pinned package at its pin, under uv
(which Streamlit Community Cloud tries first, in uv's default `first-index` strategy) and under
pip, for every supported Python, and never PyPI's CUDA build of torch on Linux.

The real file is resolved offline against loopback stand-ins of PyPI and of PyTorch's CPU index
(tests/package_indexes.py), with only the PyTorch host replaced by its stand-in's and PyPI, the
default index, given as the stand-in's. uv resolves for each target platform and Python
(`--python-platform`, `--python-version`). pip resolves for Linux x86_64 with `--platform` and
`--python-version`, which choose wheels and check Requires-Python; pip evaluates environment
markers for the interpreter running it, whose platform (Linux) is the target's and whose Python
version no marker here tells apart from the others.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tomllib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from package_indexes import StandIns, stand_ins
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from uv import find_uv_bin

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
REQUIREMENTS = ROOT / "requirements.txt"
PYTORCH_HOST = "https://download.pytorch.org"
PYTHONS = ("3.11", "3.12", "3.13")
TORCH = "2.13.0"
CUDA_PACKAGES = re.compile(r"^(nvidia-.*|triton)$")


@dataclass(frozen=True)
class Target:
    """A platform for uv (pip resolves for Linux x86_64 alone: see above)."""

    name: str
    uv_platform: str
    env: dict[str, str] = field(default_factory=dict)


PIP_LINUX_X86_64 = "manylinux_2_28_x86_64"
LINUX_X86_64 = Target("linux-x86_64", "x86_64-manylinux_2_28")
LINUX_AARCH64 = Target("linux-aarch64", "aarch64-manylinux_2_28")
# torch 2.13's macOS wheels are tagged macosx_14_0; uv's default macOS target is older.
MACOS_ARM64 = Target("macos-arm64", "aarch64-apple-darwin",
                     env={"MACOSX_DEPLOYMENT_TARGET": "14.0"})
WINDOWS_AMD64 = Target("windows-amd64", "x86_64-pc-windows-msvc")


@dataclass(frozen=True)
class Picked:
    version: str
    urls: tuple[str, ...]


@dataclass(frozen=True)
class Outcome:
    """One tool's answer: the packages it picked (name -> version and wheel URLs) or, when it
    found no solution, its error text. `pytorch_paths` lists what it asked of the PyTorch host."""

    picked: dict[str, Picked]
    error: str
    pytorch_paths: tuple[str, ...]

    def resolved(self) -> dict[str, Picked]:
        assert not self.error, self.error
        return self.picked

    def versions(self) -> dict[str, str]:
        return {name: picked.version for name, picked in self.resolved().items()}


def real_requirements() -> str:
    text = REQUIREMENTS.read_text()
    assert PYTORCH_HOST in text, "requirements.txt no longer names PyTorch's host"
    return text


def pins(text: str) -> dict[str, str]:
    """name -> version of every `name==version` line that applies on every platform."""
    found = {}
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if not line or line.startswith("-"):
            continue
        requirement = Requirement(line)
        specifiers = list(requirement.specifier)
        if requirement.marker is None and len(specifiers) == 1 and specifiers[0].operator == "==":
            found[canonicalize_name(requirement.name)] = specifiers[0].version
    return found


def without_pytorch_lines(text: str) -> str:
    """The same pins with no PyTorch source and a plain torch pin: what PyPI alone gives."""
    kept = [line for line in text.splitlines()
            if PYTORCH_HOST not in line and not line.strip().startswith("torch")]
    return "\n".join([f"torch=={TORCH}", *kept]) + "\n"


def as_extra_index(text: str) -> str:
    """The same pins behind `--extra-index-url` of the whole CPU index, plain torch pin."""
    return f"--extra-index-url {PYTORCH_HOST}/whl/cpu\n" + without_pytorch_lines(text)


def free_loopback_port() -> int:
    """A loopback port that nothing listens on: connecting to it is refused at once."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Resolver:
    """Runs uv and pip against the stand-ins; each distinct question is asked once."""

    def __init__(self, indexes: StandIns, workdir: Path) -> None:
        self.indexes = indexes
        self.workdir = workdir
        self.answers: dict[tuple, Outcome] = {}
        env = {key: value for key, value in os.environ.items()
               if not key.startswith(("PIP_", "UV_"))}
        # No machine or user configuration leaks in (pip's global config file adds local
        # mirrors here), nothing is proxied, no interpreter is downloaded.
        env.update(PIP_CONFIG_FILE=os.devnull, NO_PROXY="127.0.0.1", no_proxy="127.0.0.1",
                   UV_PYTHON_DOWNLOADS="never")
        self.env = env

    def _write(self, text: str, pytorch_host: str | None) -> Path:
        path = self.workdir / f"requirements-{len(self.answers)}.txt"
        path.write_text(text.replace(PYTORCH_HOST, pytorch_host or self.indexes.pytorch.url))
        return path

    def uv(self, text: str, python: str, target: Target, *, pytorch_host: str | None = None,
           env: dict[str, str] | None = None) -> Outcome:
        key = ("uv", text, python, target.name, pytorch_host, tuple(sorted((env or {}).items())))
        if key not in self.answers:
            command = [find_uv_bin(), "pip", "compile", str(self._write(text, pytorch_host)),
                       "--python", sys.executable, "--python-version", python,
                       "--python-platform", target.uv_platform,
                       "--index-url", self.indexes.pypi_simple,
                       "--format", "pylock.toml", "--no-config", "--no-cache", "--quiet"]
            self.answers[key] = self._run(command, {**target.env, **(env or {})}, _read_pylock)
        return self.answers[key]

    def pip(self, text: str, python: str, *, pytorch_host: str | None = None,
            extra: tuple[str, ...] = ()) -> Outcome:
        key = ("pip", text, python, pytorch_host, extra)
        if key not in self.answers:
            target_dir = self.workdir / f"target-{len(self.answers)}"
            command = [sys.executable, "-m", "pip", "install", "--isolated", "--dry-run",
                       "--quiet", "--report", "-", "--no-cache-dir", "--ignore-installed",
                       "--disable-pip-version-check", "--target", str(target_dir),
                       "--python-version", python, "--platform", PIP_LINUX_X86_64,
                       "--only-binary=:all:", "--index-url", self.indexes.pypi_simple, *extra,
                       "-r", str(self._write(text, pytorch_host))]
            self.answers[key] = self._run(command, {}, _read_pip_report)
        return self.answers[key]

    def _run(self, command: list[str], env: dict[str, str],
             read: Callable[[str], dict[str, Picked]]) -> Outcome:
        asked_before = len(self.indexes.pytorch.requested)
        done = subprocess.run(command, capture_output=True, text=True, timeout=300,
                              env={**self.env, **env})
        asked = tuple(self.indexes.pytorch.requested[asked_before:])
        if done.returncode != 0:
            return Outcome({}, done.stderr or f"exit code {done.returncode}", asked)
        return Outcome(read(done.stdout), "", asked)


def _read_pylock(text: str) -> dict[str, Picked]:
    return {canonicalize_name(package["name"]): Picked(
                package["version"], tuple(wheel["url"] for wheel in package.get("wheels", [])))
            for package in tomllib.loads(text)["packages"]}


def _read_pip_report(text: str) -> dict[str, Picked]:
    return {canonicalize_name(item["metadata"]["name"]): Picked(
                item["metadata"]["version"], (item["download_info"]["url"],))
            for item in json.loads(text)["install"]}


@pytest.fixture(scope="module")
def resolver(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Resolver]:
    root = tmp_path_factory.mktemp("indexes")
    with stand_ins(root) as indexes:
        yield Resolver(indexes, tmp_path_factory.mktemp("resolutions"))


def assert_cpu_torch_and_pins_from_pypi(picked: dict[str, Picked], indexes: StandIns) -> None:
    """torch is the CPU build from PyTorch's page; everything else, the pins at their versions
    included, comes from PyPI; no CUDA package is pulled in."""
    torch = picked["torch"]
    assert torch.version == f"{TORCH}+cpu"
    assert all(url.startswith(f"{indexes.pytorch.url}/whl/cpu/torch-") for url in torch.urls)
    for name, version in pins(real_requirements()).items():
        assert picked[name].version == version, name
    from_elsewhere = {name: found.urls for name, found in picked.items() if name != "torch"
                      and not all(url.startswith(f"{indexes.pypi.url}/") for url in found.urls)}
    assert from_elsewhere == {}
    assert [name for name in picked if CUDA_PACKAGES.match(name)] == []


def test_every_package_but_torch_is_pinned_exactly_for_every_platform() -> None:
    assert set(pins(real_requirements())) == {"numpy", "streamlit", "altair"}


@pytest.mark.parametrize("python", PYTHONS)
def test_uv_takes_cpu_torch_from_pytorch_and_every_other_package_from_pypi(
        resolver: Resolver, python: str) -> None:
    outcome = resolver.uv(real_requirements(), python, LINUX_X86_64)
    assert_cpu_torch_and_pins_from_pypi(outcome.resolved(), resolver.indexes)
    # Only torch's own page and wheel are asked of the PyTorch host: index priority cannot
    # reach any other package.
    assert outcome.pytorch_paths
    assert [path for path in outcome.pytorch_paths
            if not path.startswith(("/whl/cpu/torch/", "/whl/cpu/torch-"))] == []


@pytest.mark.parametrize("python", PYTHONS)
def test_pip_takes_cpu_torch_from_pytorch_and_every_other_package_from_pypi(
        resolver: Resolver, python: str) -> None:
    outcome = resolver.pip(real_requirements(), python)
    assert_cpu_torch_and_pins_from_pypi(outcome.resolved(), resolver.indexes)


@pytest.mark.parametrize("python", PYTHONS)
def test_uv_and_pip_pick_the_same_versions(resolver: Resolver, python: str) -> None:
    text = real_requirements()
    assert resolver.uv(text, python, LINUX_X86_64).versions() == \
        resolver.pip(text, python).versions()


@pytest.mark.parametrize(("target", "torch_version"), [
    (LINUX_AARCH64, f"{TORCH}+cpu"),
    (WINDOWS_AMD64, f"{TORCH}+cpu"),
    (MACOS_ARM64, TORCH),
], ids=lambda value: value.name if isinstance(value, Target) else value)
def test_uv_takes_a_cpu_build_of_torch_on_other_platforms(
        resolver: Resolver, target: Target, torch_version: str) -> None:
    picked = resolver.uv(real_requirements(), "3.12", target).resolved()
    assert picked["torch"].version == torch_version
    assert [name for name in picked if CUDA_PACKAGES.match(name)] == []
    for name, version in pins(real_requirements()).items():
        assert picked[name].version == version, name


def test_the_pypi_stand_in_alone_gives_the_cuda_build(resolver: Resolver) -> None:
    """Control: without the PyTorch lines both tools take PyPI's torch and its NVIDIA
    packages, so the checks above would see a CUDA build."""
    text = without_pytorch_lines(real_requirements())
    for picked in (resolver.uv(text, "3.12", LINUX_X86_64).resolved(),
                   resolver.pip(text, "3.12").resolved()):
        assert picked["torch"].version == TORCH
        assert [name for name in picked if CUDA_PACKAGES.match(name)] != []


def test_uv_first_index_cannot_take_the_pins_through_an_extra_index_url(
        resolver: Resolver) -> None:
    """Control: with the whole CPU index as an extra index, uv takes numpy only from it, where
    the pinned version does not exist; pip, which merges indexes, still resolves."""
    text = as_extra_index(real_requirements())
    numpy = pins(text)["numpy"]
    outcome = resolver.uv(text, "3.12", LINUX_X86_64)
    assert f"numpy=={numpy}" in outcome.error
    assert "first index" in outcome.error
    picked = resolver.pip(text, "3.12").resolved()
    assert (picked["torch"].version, picked["numpy"].version) == (f"{TORCH}+cpu", numpy)


def test_pip_takes_cpu_torch_from_a_local_copy_when_the_pytorch_host_is_unreachable(
        resolver: Resolver, tmp_path: Path) -> None:
    """As on a closed network with the CPU wheel on disk (pip's find-links): the unreachable
    page is skipped, not fatal."""
    cpu_wheel = next((resolver.indexes.pytorch.folder / "whl" / "cpu").glob(
        f"torch-{TORCH}+cpu-cp311-cp311-manylinux_2_28_x86_64.whl"))
    shutil.copy(cpu_wheel, tmp_path)
    outcome = resolver.pip(real_requirements(), "3.11",
                           pytorch_host=f"http://127.0.0.1:{free_loopback_port()}",
                           extra=("--retries", "0", "--find-links", str(tmp_path)))
    picked = outcome.resolved()
    assert picked["torch"].version == f"{TORCH}+cpu"
    assert picked["torch"].urls[0].startswith("file://")
    assert [name for name in picked if CUDA_PACKAGES.match(name)] == []


def test_pip_fails_rather_than_take_the_cuda_build_when_no_cpu_torch_can_be_had(
        resolver: Resolver) -> None:
    outcome = resolver.pip(real_requirements(), "3.12",
                           pytorch_host=f"http://127.0.0.1:{free_loopback_port()}",
                           extra=("--retries", "0"))
    assert f"torch=={TORCH}+cpu" in outcome.error
    assert outcome.picked == {}


def test_uv_stops_with_an_error_when_the_pytorch_page_is_unreachable(resolver: Resolver) -> None:
    """uv treats an unreachable `--find-links` page as an error rather than resolving without
    it (Streamlit Community Cloud then installs with pip)."""
    outcome = resolver.uv(real_requirements(), "3.12", LINUX_X86_64,
                          pytorch_host=f"http://127.0.0.1:{free_loopback_port()}",
                          env={"UV_HTTP_RETRIES": "0"})
    assert "Failed to read `--find-links` URL" in outcome.error
