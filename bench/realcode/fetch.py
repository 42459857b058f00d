"""Rebuild the real-code corpus from the manifest: the `.py` files of each wheel and repository.

    python bench/realcode/fetch.py --dest DIR                      # wheels only (pip)
    python bench/realcode/fetch.py --dest DIR --mirrors MIRRORS    # and the repositories

Wheels come from PyPI with `pip download --no-deps --only-binary :all: NAME==VERSION` into
DIR/wheels. Repositories are not downloaded: they are read from local git mirrors, one per
repository, at MIRRORS/<owner>+<name> (a bare repository, or one holding `.git`, or either
under a `repo/` subfolder), at the manifest's commit. Sources go to DIR/src/<corpus>/; a
`.complete` marker skips a corpus on later runs.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import zipfile
from pathlib import Path

from manifest import Manifest, Repository, Wheel, load_manifest

COMPLETE_MARKER = ".complete"


def fetch_wheel(wheel: Wheel, dest: Path) -> Path:
    target = dest / "src" / wheel.corpus
    if (target / COMPLETE_MARKER).exists():
        return target
    wheels = dest / "wheels"
    prefix = f"{wheel.name.replace('-', '_')}-{wheel.version}-"
    if not any(wheels.glob(f"{prefix}*.whl")):
        command = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary", ":all:"]
        subprocess.run([*command, wheel.requirement, "-d", str(wheels)], check=True)
    archive_path = next(wheels.glob(f"{prefix}*.whl"))
    with zipfile.ZipFile(archive_path) as archive:
        archive.extractall(target, [name for name in archive.namelist() if name.endswith(".py")])
    (target / COMPLETE_MARKER).touch()
    return target


def git_dir(mirrors: Path, repository: Repository) -> Path:
    """The mirror's git directory, whichever of the accepted layouts it has."""
    base = mirrors / repository.slug
    for candidate in (base / "repo" / ".git", base / "repo", base / ".git", base):
        if (candidate / "HEAD").exists():
            return candidate
    raise FileNotFoundError(f"no git mirror of {repository.repo} under {base}")


def fetch_repository(repository: Repository, mirrors: Path, dest: Path) -> Path:
    target = dest / "src" / repository.corpus
    if (target / COMPLETE_MARKER).exists():
        return target
    git = ["git", f"--git-dir={git_dir(mirrors, repository)}"]
    listing = subprocess.run(
        [*git, "ls-tree", "-r", "--name-only", "-z", repository.commit],
        check=True,
        capture_output=True,
    ).stdout.decode()
    for path in filter(lambda name: name.endswith(".py"), listing.split("\0")):
        shown = subprocess.run([*git, "show", f"{repository.commit}:{path}"], capture_output=True)
        if shown.returncode == 0:  # a mirror may lack a blob; that file is left out
            (target / path).parent.mkdir(parents=True, exist_ok=True)
            (target / path).write_bytes(shown.stdout)
    (target / COMPLETE_MARKER).touch()
    return target


def fetch_all(manifest: Manifest, dest: Path, mirrors: Path | None) -> list[Path]:
    fetched = [fetch_wheel(wheel, dest) for wheel in manifest.wheels]
    if mirrors is not None:
        fetched += [fetch_repository(repo, mirrors, dest) for repo in manifest.repositories]
    return fetched


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dest", type=Path, required=True, help="holds wheels/ and src/")
    parser.add_argument("--mirrors", type=Path, help="a folder of git mirrors, <owner>+<name>")
    args = parser.parse_args(argv)
    for path in fetch_all(load_manifest(), args.dest, args.mirrors):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
