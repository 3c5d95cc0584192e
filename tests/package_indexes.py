"""Loopback stand-ins for PyPI and PyTorch's CPU wheel index, so the tests can resolve the real
requirements.txt with uv and pip without the internet.

The wheels are tiny synthetic ones. Their metadata copies the dependency structure that decides
between the two indexes: PyPI's Linux torch pulls NVIDIA CUDA packages (so taking it shows in a
resolution), and the CPU index, like the real one, also serves older copies of packages that
torch and streamlit share with PyPI (numpy, pillow, typing-extensions, requests, jinja2, ...).
Only the shape matters; the version numbers of unpinned packages are plausible, not real.
"""

from __future__ import annotations

import base64
import hashlib
import html
import threading
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import quote

PYTHONS = ("311", "312", "313")
LINUX_X86_64 = "manylinux_2_28_x86_64"
LINUX_AARCH64 = "manylinux_2_28_aarch64"
MACOS_ARM64 = "macosx_14_0_arm64"
WINDOWS_AMD64 = "win_amd64"
EVERY_PLATFORM = (LINUX_X86_64, LINUX_AARCH64, MACOS_ARM64, WINDOWS_AMD64)

TORCH_REQUIRES = (
    "filelock", "typing-extensions>=4.10.0", "setuptools>=77.0.3", "sympy>=1.13.3",
    "networkx>=2.5.1", "jinja2", "fsspec>=0.8.5",
)
# PyPI's torch for Linux is the CUDA build: its metadata adds NVIDIA's libraries and triton.
CUDA_REQUIRES = tuple(
    f"{name}; platform_system == 'Linux'"
    for name in ("nvidia-cublas-cu13==13.1.0.3", "nvidia-cudnn-cu13==9.15.1.9", "triton==3.6.0"))


@dataclass(frozen=True)
class Release:
    """One version of one project, built as one wheel per tag."""

    name: str
    version: str
    requires: tuple[str, ...] = ()
    tags: tuple[str, ...] = ("py3-none-any",)
    requires_python: str | None = None


def cpython(*platforms: str) -> tuple[str, ...]:
    """CPython wheel tags for every supported Python on the given platforms."""
    return tuple(f"cp{py}-cp{py}-{platform}" for py in PYTHONS for platform in platforms)


def pure(name: str, version: str, *requires: str, python: str | None = None) -> Release:
    return Release(name, version, tuple(requires), requires_python=python)


# Versions as PyPI has them: the newest of everything, torch's Linux wheels built for CUDA.
PYPI = (
    Release("torch", "2.13.0", TORCH_REQUIRES + CUDA_REQUIRES, cpython(*EVERY_PLATFORM), ">=3.10"),
    Release("torch", "2.12.0", TORCH_REQUIRES + CUDA_REQUIRES, cpython(*EVERY_PLATFORM), ">=3.10"),
    Release("nvidia-cublas-cu13", "13.1.0.3",
            tags=(f"py3-none-{LINUX_X86_64}", f"py3-none-{LINUX_AARCH64}")),
    Release("nvidia-cudnn-cu13", "9.15.1.9", ("nvidia-cublas-cu13",),
            tags=(f"py3-none-{LINUX_X86_64}", f"py3-none-{LINUX_AARCH64}")),
    Release("triton", "3.6.0", tags=cpython(LINUX_X86_64, LINUX_AARCH64)),
    Release("numpy", "2.4.6", tags=cpython(*EVERY_PLATFORM), requires_python=">=3.11"),
    Release("numpy", "2.3.5", tags=cpython(*EVERY_PLATFORM), requires_python=">=3.11"),
    pure("streamlit", "1.67.0", "altair!=5.4.0,!=5.4.1,<7,>=5.0.0", "numpy<3,>=1.25.0",
         "packaging>=20", "pillow<14,>=9.2.0", "requests<3,>=2.27",
         "typing-extensions<5,>=4.10.0", "watchdog<8,>=2.1.5; platform_system != 'Darwin'",
         python=">=3.11"),
    pure("altair", "6.3.0", "jinja2", "jsonschema>=3.0", "narwhals>=2.4.0", "packaging",
         "typing-extensions>=4.12.0; python_version < '3.15'", python=">=3.11"),
    pure("altair", "5.5.0", "jinja2", "jsonschema>=3.0", "narwhals>=1.14.2", "packaging",
         "typing-extensions>=4.10.0; python_version < '3.14'", python=">=3.9"),
    pure("pillow", "12.1.0", python=">=3.10"),
    pure("requests", "2.32.5", "charset-normalizer<4,>=2", "idna<4,>=2.5",
         "urllib3<3,>=1.21.1", "certifi>=2017.4.17", python=">=3.9"),
    pure("charset-normalizer", "3.4.4"),
    pure("idna", "3.11"),
    pure("urllib3", "2.6.2"),
    pure("certifi", "2025.11.12"),
    pure("typing-extensions", "4.15.0"),
    pure("jinja2", "3.1.6", "MarkupSafe>=2.0"),
    pure("markupsafe", "3.0.3"),
    pure("jsonschema", "4.25.1", "attrs>=22.2.0"),
    pure("attrs", "25.4.0"),
    pure("narwhals", "2.14.0"),
    pure("packaging", "25.0"),
    pure("watchdog", "6.0.0"),
    pure("filelock", "3.20.1"),
    pure("fsspec", "2025.12.0"),
    pure("sympy", "1.14.0", "mpmath<1.4,>=1.1.0"),
    pure("mpmath", "1.3.0"),
    pure("networkx", "3.6.1", python=">=3.11"),
    pure("setuptools", "80.9.0"),
)

# PyTorch's CPU index: the CPU builds of torch (a local `+cpu` version on Linux and Windows; the
# macOS wheel, CPU-only anyway, without one) and older mirrors of packages it shares with PyPI.
PYTORCH_CPU = (
    Release("torch", "2.13.0+cpu", TORCH_REQUIRES,
            cpython(LINUX_X86_64, LINUX_AARCH64, WINDOWS_AMD64), ">=3.10"),
    Release("torch", "2.13.0", TORCH_REQUIRES, cpython(MACOS_ARM64), ">=3.10"),
    Release("torch", "2.12.0+cpu", TORCH_REQUIRES,
            cpython(LINUX_X86_64, LINUX_AARCH64, WINDOWS_AMD64), ">=3.10"),
    Release("numpy", "2.1.2", tags=cpython(*EVERY_PLATFORM), requires_python=">=3.10"),
    pure("pillow", "11.0.0", python=">=3.9"),
    pure("requests", "2.28.1", "charset-normalizer<3,>=2", "idna<4,>=2.5",
         "urllib3<1.27,>=1.21.1", "certifi>=2017.4.17", python=">=3.7"),
    pure("charset-normalizer", "2.1.1"),
    pure("idna", "3.4"),
    pure("urllib3", "1.26.13"),
    pure("certifi", "2022.12.7"),
    pure("typing-extensions", "4.12.2"),
    pure("jinja2", "3.1.4", "MarkupSafe>=2.0"),
    pure("markupsafe", "2.1.5"),
    pure("filelock", "3.13.1"),
    pure("fsspec", "2024.6.1"),
    pure("sympy", "1.13.3", "mpmath<1.4,>=1.1.0"),
    pure("mpmath", "1.3.0"),
    pure("networkx", "3.3", python=">=3.10"),
    pure("setuptools", "78.1.0"),
)


def normalize(name: str) -> str:
    """PEP 503 project name, as in index URLs."""
    return "-".join(name.lower().replace("_", "-").replace(".", "-").split("-"))


def wheel_name(release: Release, tag: str) -> str:
    return f"{normalize(release.name).replace('-', '_')}-{release.version}-{tag}.whl"


def build_wheel(release: Release, tag: str, folder: Path) -> Path:
    """A minimal valid wheel: one module and a dist-info with METADATA, WHEEL and RECORD."""
    stem = f"{normalize(release.name).replace('-', '_')}-{release.version}"
    module = normalize(release.name).replace("-", "_")
    metadata = [f"Metadata-Version: 2.1\nName: {release.name}\nVersion: {release.version}\n"]
    if release.requires_python:
        metadata.append(f"Requires-Python: {release.requires_python}\n")
    metadata.extend(f"Requires-Dist: {requirement}\n" for requirement in release.requires)
    files = {
        f"{module}/__init__.py": f"__version__ = {release.version!r}\n",
        f"{stem}.dist-info/METADATA": "".join(metadata),
        f"{stem}.dist-info/WHEEL": (
            "Wheel-Version: 1.0\nGenerator: gan-curve-lab tests\n"
            f"Root-Is-Purelib: {'true' if tag.endswith('-none-any') else 'false'}\nTag: {tag}\n"),
    }
    record = [f"{path},sha256={_digest(text.encode())},{len(text.encode())}"
              for path, text in files.items()]
    record.append(f"{stem}.dist-info/RECORD,,")
    path = folder / wheel_name(release, tag)
    with zipfile.ZipFile(path, "w") as wheel:
        for name, text in files.items():
            wheel.writestr(name, text)
        wheel.writestr(f"{stem}.dist-info/RECORD", "\n".join(record) + "\n")
    return path


def _digest(data: bytes) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def _write_project_pages(releases: tuple[Release, ...], files: Path, pages: Path,
                         href_prefix: str) -> None:
    """Build every wheel into `files` and a PEP 503 page per project under `pages`, each link
    `href_prefix` + file name with its sha256, as both indexes serve them."""
    files.mkdir(parents=True, exist_ok=True)
    links: dict[str, list[str]] = {}
    for release in releases:
        for tag in release.tags:
            wheel = build_wheel(release, tag, files)
            sha256 = hashlib.sha256(wheel.read_bytes()).hexdigest()
            python = (f' data-requires-python="{html.escape(release.requires_python)}"'
                      if release.requires_python else "")
            links.setdefault(normalize(release.name), []).append(
                f'<a href="{href_prefix}{quote(wheel.name)}#sha256={sha256}"{python}>'
                f"{wheel.name}</a><br/>")
    for project, anchors in links.items():
        page = pages / project / "index.html"
        page.parent.mkdir(parents=True, exist_ok=True)
        page.write_text("<!DOCTYPE html>\n<html><body>\n" + "\n".join(anchors)
                        + "\n</body></html>\n")
    (pages / "index.html").write_text(
        "<!DOCTYPE html>\n<html><body>\n"
        + "\n".join(f'<a href="{project}/">{project}</a><br/>' for project in sorted(links))
        + "\n</body></html>\n")


class _RecordingServer(ThreadingHTTPServer):
    """Serves one folder on a free loopback port and remembers every path asked of it."""

    def __init__(self, folder: Path) -> None:
        super().__init__(("127.0.0.1", 0), partial(_RecordingHandler, directory=str(folder)))
        self.requested: list[str] = []


class _RecordingHandler(SimpleHTTPRequestHandler):
    server: _RecordingServer

    def log_message(self, format: str, *args: object) -> None:
        self.server.requested.append(self.path)


@dataclass(frozen=True)
class Served:
    """A folder served over HTTP: its base URL and every path asked of it so far, in order."""

    url: str
    folder: Path
    requested: list[str]


@contextmanager
def serve(folder: Path) -> Iterator[Served]:
    """Serve `folder` over HTTP on a free loopback port until the block ends."""
    server = _RecordingServer(folder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Served(f"http://127.0.0.1:{server.server_address[1]}", folder, server.requested)
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@dataclass(frozen=True)
class StandIns:
    """Where the two stand-ins answer. `pytorch` stands for https://download.pytorch.org and
    serves the CPU index under /whl/cpu/ as the real host does; `pypi` serves PyPI's simple
    API under /simple."""

    pytorch: Served
    pypi: Served

    @property
    def pypi_simple(self) -> str:
        return f"{self.pypi.url}/simple"


@contextmanager
def stand_ins(root: Path) -> Iterator[StandIns]:
    """Build both indexes under `root` and serve each from its own loopback port."""
    pypi, pytorch = root / "pypi", root / "pytorch"
    _write_project_pages(PYPI, pypi / "files", pypi / "simple", "../../files/")
    # PyTorch's pages link their wheels by path from the host root.
    cpu = pytorch / "whl" / "cpu"
    _write_project_pages(PYTORCH_CPU, cpu, cpu, "/whl/cpu/")
    with serve(pypi) as pypi_served, serve(pytorch) as pytorch_served:
        yield StandIns(pytorch_served, pypi_served)
