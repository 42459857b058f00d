"""Start-up: `nanlint check` imports the analysis (libcst) only when a file needs it, and never
the language server (pygls)."""

from __future__ import annotations

import subprocess
import sys

from nanlint.catalog import RULE_INFOS
from nanlint.rules import ALL_RULES

_IMPORTED = (
    "import sys, runpy\n"
    "sys.argv = ['nanlint', 'check', '--isolated', sys.argv[1]]\n"
    "try:\n"
    "    runpy.run_module('nanlint', run_name='__main__')\n"
    "except SystemExit:\n"
    "    pass\n"
    "print(sorted(m for m in ('libcst', 'torch', 'nanlint.analysis.interpreter', 'pygls') if m in sys.modules))\n"
)


def _imported(path) -> str:
    done = subprocess.run(
        [sys.executable, "-c", _IMPORTED, str(path)],
        capture_output=True,
        text=True,
        check=True,
        cwd=path.parent,
    )
    return done.stdout.splitlines()[-1]


def test_the_catalog_names_every_rule_once():
    assert [info.code for info in RULE_INFOS] == [rule.code for rule in ALL_RULES]
    for info, rule in zip(RULE_INFOS, ALL_RULES):
        assert (rule.name, rule.summary, rule.triggers) == (info.name, info.summary, info.triggers)
        assert rule.default_enabled is info.default_enabled


def test_a_file_without_triggers_is_checked_without_the_analysis(tmp_path):
    (tmp_path / "data.py").write_text("import torch\n\nrows = torch.zeros(3)\n")
    assert _imported(tmp_path / "data.py") == "[]"


def test_a_file_with_triggers_loads_the_analysis_but_never_torch(tmp_path):
    (tmp_path / "train.py").write_text(
        "import torch\n\nloss = torch.nn.BCELoss()(torch.sigmoid(z), y)\n"
    )
    assert _imported(tmp_path / "train.py") == "['libcst', 'nanlint.analysis.interpreter']"
