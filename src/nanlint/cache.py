"""The results cache: a `nanlint check` whose inputs have not changed replays its diagnostics.

`.nanlint_cache/` (beside the configuration file, else in the working directory; `--cache-dir`
or NANLINT_CACHE_DIR elsewhere) holds one record per set of linted files and settings, under a
directory per nanlint version and record format. A record lists every input of its run: each
file the analysis read, with a hash of its content, and every import it resolved, with the file
it found. It is replayed only when all of them are unchanged: the project analysis makes one
file's diagnostics depend on others, so a record is valid for its whole run or not at all.

A record also keeps each input's signature (size, modification and change times, inode) as it
was when its content was hashed: a run whose inputs all keep their signatures is replayed
without reading them (what ruff and mypy do); any other run compares content hashes.

A record is written to a temporary file and renamed into place, so a reader sees a whole record
or none, and two nanlint processes racing (pre-commit runs hooks in parallel) each write a
complete record; the last one wins. A record that cannot be read or does not check out is a miss.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from nanlint import __version__, records
from nanlint.analysis.layout import absolute, find_module
from nanlint.diagnostics import Diagnostic
from nanlint.source import DecodeError, SourceFile

if TYPE_CHECKING:
    from nanlint.analysis.project import Project

CACHE_NAME = ".nanlint_cache"
ENVIRONMENT_VARIABLE = "NANLINT_CACHE_DIR"
FORMAT = 1
# Records kept per version; beyond this the least recently written go (pre-commit lints a
# different set of files on every commit, and each set has its own record).
MAX_RECORDS = 256
_TAG = (
    "Signature: 8a477f597d28d172789f06886806bc55\n"
    "# This file is a cache directory tag created by nanlint.\n"
    "# For information about cache directory tags see https://bford.info/cachedir/\n"
)


def default_directory(root: Path) -> Path:
    """NANLINT_CACHE_DIR, else `.nanlint_cache` in `root` (the configuration's directory)."""
    configured = os.environ.get(ENVIRONMENT_VARIABLE)
    return Path(configured) if configured else root / CACHE_NAME


def clean(directory: Path) -> bool:
    """Remove a cache directory; False when there was none. Refuses a directory that is not
    nanlint's (no CACHEDIR.TAG written by nanlint), so a wrong --cache-dir deletes nothing."""
    if not directory.exists():
        return False
    tag = directory / "CACHEDIR.TAG"
    if not tag.is_file() or "created by nanlint" not in tag.read_text(errors="replace"):
        raise OSError(f"{directory} is not a nanlint cache directory (no nanlint CACHEDIR.TAG)")
    shutil.rmtree(directory)
    return True


def digest(text: str) -> str:
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()


class ResultsCache:
    def __init__(self, directory: Path):
        self.directory = directory
        self._records = directory / f"{__version__}-{FORMAT}"

    def key(self, paths: Iterable[Path], settings: str) -> str:
        """What identifies a run: nanlint's build, the settings, the working directory
        (paths are reported as given) and the linted paths."""
        identity = [_nanlint_build(), settings, os.getcwd(), sorted(str(path) for path in paths)]
        return digest(json.dumps(identity))

    def replay(self, key: str) -> list[Diagnostic] | None:
        """The recorded diagnostics of run `key` when every input keeps the signature it had
        when it was hashed (nothing is read), else None."""
        try:
            record = self._record(key)
            signatures = record["signatures"]
            for path in record["inputs"]:
                if path not in signatures or signatures[path] != signature(path):
                    return None
            if not _modules_unchanged(record):
                return None
            return [records.load(item) for item in record["diagnostics"]]
        except (OSError, ValueError, KeyError, TypeError, IndexError, AttributeError):
            return None

    def lookup(self, key: str, sources: Sequence[SourceFile]) -> list[Diagnostic] | None:
        """The recorded diagnostics of run `key` when none of its inputs changed, else None."""
        try:
            record = self._record(key)
            if not self._unchanged(record, sources):
                return None
            return [records.load(item) for item in record["diagnostics"]]
        except (OSError, ValueError, KeyError, TypeError, IndexError):
            return None

    def _record(self, key: str) -> dict:
        record = json.loads((self._records / f"{key}.json").read_text(encoding="utf-8"))
        if record["format"] != FORMAT:
            raise ValueError("another record format")
        return record

    def store(
        self,
        key: str,
        sources: Sequence[SourceFile],
        projects: Sequence[Project],
        diagnostics: Sequence[Diagnostic],
    ) -> None:
        """Record a run (best effort: a cache that cannot be written is no error)."""
        inputs = {str(absolute(s.path)): digest(s.text) for s in sources}
        modules: dict[str, str | None] = {}
        roots: list[str] = []
        for project in projects:
            for path, source in project.inputs().items():
                inputs.setdefault(str(path), None if source is None else digest(source.text))
            for qualname, found in project.resolved_modules().items():
                modules[qualname] = None if found is None else str(found)
            roots += [str(root) for root in project.roots if str(root) not in roots]
        record = {
            "format": FORMAT,
            "inputs": inputs,
            "signatures": _signatures(inputs),
            "roots": roots,
            "modules": modules,
            "diagnostics": [records.dump(diagnostic) for diagnostic in diagnostics],
        }
        try:
            self._prepare()
            _write_atomically(self._records / f"{key}.json", json.dumps(record))
            self._prune()
        except OSError:
            pass

    def _unchanged(self, record: dict, sources: Sequence[SourceFile]) -> bool:
        linted = {os.path.abspath(source.path): source for source in sources}
        for path, recorded in record["inputs"].items():
            source = linted.get(path)
            if source is None:
                source = _read(Path(path))
            if (None if source is None else digest(source.text)) != recorded:
                return False
        return _modules_unchanged(record)

    def _prepare(self) -> None:
        """Create the cache directory with its CACHEDIR.TAG and a .gitignore ignoring it all."""
        self._records.mkdir(parents=True, exist_ok=True)
        for name, text in (("CACHEDIR.TAG", _TAG), (".gitignore", "# Created by nanlint.\n*\n")):
            if not (self.directory / name).exists():
                _write_atomically(self.directory / name, text)

    def _prune(self) -> None:
        found = list(self._records.glob("*.json"))
        if len(found) <= MAX_RECORDS:
            return
        by_age = sorted(found, key=lambda path: path.stat().st_mtime)
        for path in by_age[: len(found) - MAX_RECORDS]:
            path.unlink(missing_ok=True)


def _modules_unchanged(record: dict) -> bool:
    """Whether every import of the record still resolves to the same project file."""
    roots = [Path(root) for root in record["roots"]]
    for qualname, found in record["modules"].items():
        now = find_module(roots, qualname)
        if (None if now is None else str(now)) != found:
            return False
    return True


def signature(path: str) -> list[int] | None:
    """What changes when a file is written, replaced or touched (None: no such file)."""
    try:
        stat = os.stat(path)
    except OSError:
        return None
    return [stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns, stat.st_ino]


def _signatures(inputs: dict[str, str | None]) -> dict[str, list[int] | None]:
    """Each input's signature now, kept only where the file still has the content that was
    hashed (taken before the check, so a later change shows in the signature)."""
    signatures: dict[str, list[int] | None] = {}
    for path, recorded in inputs.items():
        now = signature(path)
        source = _read(Path(path)) if recorded is not None else None
        if (None if source is None else digest(source.text)) == recorded:
            signatures[path] = now
    return signatures


@functools.cache
def _nanlint_build() -> str:
    """nanlint's version and the size and time of each of its modules, so that an editable
    install whose code changed never replays what older code found (a few stat calls)."""
    package = Path(__file__).parent
    stamps = sorted(
        (str(path.relative_to(package)), stat.st_size, stat.st_mtime_ns)
        for path in package.rglob("*.py")
        for stat in [path.stat()]
    )
    return digest(json.dumps([__version__, FORMAT, stamps]))


def _read(path: Path) -> SourceFile | None:
    try:
        return SourceFile.from_bytes(path, path.read_bytes())
    except (OSError, DecodeError):
        return None


def _write_atomically(path: Path, text: str) -> None:
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
