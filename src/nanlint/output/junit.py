"""`--output-format junit`: JUnit XML, one test suite per file and one failing case per diagnostic."""

from __future__ import annotations

import itertools
import xml.etree.ElementTree as ET
from typing import TYPE_CHECKING

from nanlint.diagnostics import Diagnostic
from nanlint.output.paths import display

if TYPE_CHECKING:
    from nanlint.output import RunSummary


def render(diagnostics: list[Diagnostic], summary: RunSummary) -> str:
    total = str(max(1, len(diagnostics)))
    root = ET.Element(
        "testsuites", name="nanlint", tests=total, failures=str(len(diagnostics)), errors="0"
    )
    if not diagnostics:
        suite = ET.SubElement(
            root, "testsuite", name="nanlint", tests="1", failures="0", errors="0"
        )
        ET.SubElement(suite, "testcase", name="No errors found", classname="nanlint")
    for path, group in itertools.groupby(diagnostics, key=lambda d: d.path):
        items = list(group)
        name = display(path, summary.cwd)
        count = str(len(items))
        suite = ET.SubElement(root, "testsuite", name=name, tests=count, failures=count, errors="0")
        for diagnostic in items:
            start = diagnostic.start
            case = ET.SubElement(
                suite,
                "testcase",
                name=f"org.nanlint.{diagnostic.label}",
                classname=name,
                line=str(start.line),
                column=str(start.column),
            )
            failure = ET.SubElement(case, "failure", message=diagnostic.short)
            cell = f"cell {start.cell}, " if start.cell is not None else ""
            failure.text = f"{cell}line {start.line}, col {start.column}, {diagnostic.message}"
    ET.indent(root, space="  ")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
