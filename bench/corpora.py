"""The pinned corpora: which wheels, where they are cached, how they are fetched and unpacked."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

CACHE_ENV = "NANLINT_BENCH_CACHE"
COMPLETE_MARKER = ".complete"


@dataclass(frozen=True)
class Corpus:
    """A pinned wheel, the file edited in the one-changed-file run and the --quick subset."""

    name: str
    version: str
    changed_file: str  # relative to the unpacked wheel
    quick_dir: str  # relative to the unpacked wheel; holds changed_file

    @property
    def requirement(self) -> str:
        return f"{self.name}=={self.version}"

    @property
    def wheel_prefix(self) -> str:
        """How pip names the wheel file: `pytorch_lightning-2.6.6-`."""
        return f"{self.name.replace('-', '_')}-{self.version}-"


CORPORA = {
    corpus.name: corpus
    for corpus in (
        Corpus("timm", "1.0.31", "timm/loss/asymmetric_loss.py", "timm/loss"),
        Corpus(
            "transformers",
            "5.23.0",
            "transformers/models/bert/modeling_bert.py",
            "transformers/models/bert",
        ),
        Corpus(
            "diffusers",
            "0.42.1",
            "diffusers/models/unets/unet_2d_condition.py",
            "diffusers/models/unets",
        ),
        Corpus(
            "pytorch-lightning",
            "2.6.6",
            "pytorch_lightning/core/module.py",
            "pytorch_lightning/core",
        ),
    )
}
DEFAULT_CORPORA = ("timm", "transformers")


def default_cache_dir() -> Path:
    """$NANLINT_BENCH_CACHE, else ~/.cache/nanlint-bench (outside the repository)."""
    return Path(os.environ.get(CACHE_ENV) or Path.home() / ".cache" / "nanlint-bench")


def download_command(corpus: Corpus, wheels: Path, find_links: str | None) -> list[str]:
    command = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary", ":all:"]
    command += [corpus.requirement, "-d", str(wheels)]
    return command + (["--find-links", find_links] if find_links else [])


def fetch(corpus: Corpus, cache: Path, find_links: str | None = None) -> Path:
    """The unpacked `.py` files of the corpus's wheel; downloads and unpacks only once."""
    target = cache / "src" / f"{corpus.name}-{corpus.version}"
    if (target / COMPLETE_MARKER).exists():
        return target
    wheels = cache / "wheels"
    wheel = _cached_wheel(corpus, wheels)
    if wheel is None:
        command = download_command(corpus, wheels, find_links)
        subprocess.run(command, stdout=sys.stderr, check=True)  # stdout is the report's
        wheel = _cached_wheel(corpus, wheels)
        if wheel is None:
            raise FileNotFoundError(f"pip downloaded no wheel for {corpus.requirement}")
    shutil.rmtree(target, ignore_errors=True)
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(target, [name for name in archive.namelist() if name.endswith(".py")])
    (target / COMPLETE_MARKER).touch()
    return target


def _cached_wheel(corpus: Corpus, wheels: Path) -> Path | None:
    return next(wheels.glob(f"{corpus.wheel_prefix}*.whl"), None)


def copy_project(corpus: Corpus, unpacked: Path, destination: Path, quick: bool) -> Path:
    """A writable copy of the corpus (with --quick: of its quick_dir only, at the same place)."""
    subset = corpus.quick_dir if quick else "."
    shutil.copytree(
        unpacked / subset,
        destination / subset,
        ignore=shutil.ignore_patterns(COMPLETE_MARKER),
        dirs_exist_ok=True,
    )
    return destination


def python_file_count(root: Path) -> int:
    return sum(1 for _ in root.rglob("*.py"))
