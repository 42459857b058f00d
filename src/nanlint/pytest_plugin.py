"""pytest plugin: `pytest --nanlint-guard` runs every test under the runtime guard.

Each test (its setup, call and teardown) runs under one guard shared by the session, so a
finding is reported once however many tests reach it, naming the first test that did and
counting the others. The findings are listed after the tests and fail the run (exit
status 1, as a failed test does) unless `--nanlint-guard-report-only` is given; the tests'
own outcomes are left as they are. Registered under the `pytest11` entry point `nanlint`;
the plugin imports torch only when the guard is asked for.
"""

from __future__ import annotations

import os

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("nanlint", "nanlint runtime guard")
    group.addoption(
        "--nanlint-guard",
        action="store_true",
        help="run each test under nanlint's runtime guard; its findings fail the run",
    )
    group.addoption(
        "--nanlint-guard-report-only",
        action="store_true",
        help="like --nanlint-guard, but only report the findings: the run does not fail",
    )
    group.addoption(
        "--nanlint-guard-select",
        metavar="CODES",
        help="comma-separated rule codes or prefixes the guard checks (default: all)",
    )
    group.addoption(
        "--nanlint-guard-ignore",
        metavar="CODES",
        help="comma-separated rule codes or prefixes the guard does not check",
    )


def _codes(value: str | None) -> list[str] | None:
    return [code.strip() for code in value.split(",") if code.strip()] if value else None


def pytest_configure(config: pytest.Config) -> None:
    if config.getoption("nanlint_guard") or config.getoption("nanlint_guard_report_only"):
        config.pluginmanager.register(GuardPlugin(config), "nanlint-guard")


class GuardPlugin:
    def __init__(self, config: pytest.Config):
        from nanlint.guard import guard

        self.report_only = config.getoption("nanlint_guard_report_only")
        self.guard = guard(
            select=_codes(config.getoption("nanlint_guard_select")),
            ignore=_codes(config.getoption("nanlint_guard_ignore")) or (),
            on_finding="record",
        )
        self.root = str(config.rootpath)

    def _under_guard(self, item: pytest.Item):
        self.guard.test = item.nodeid
        try:
            with self.guard:
                return (yield)
        finally:
            self.guard.test = None

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_setup(self, item: pytest.Item):
        return (yield from self._under_guard(item))

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_call(self, item: pytest.Item):
        return (yield from self._under_guard(item))

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_teardown(self, item: pytest.Item):
        return (yield from self._under_guard(item))

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        if self.guard.findings and not self.report_only and session.exitstatus == 0:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED

    def pytest_terminal_summary(self, terminalreporter) -> None:
        findings = self.guard.findings
        if not findings and not self.guard.messages:
            return
        terminalreporter.section("nanlint guard")
        for note in self.guard.messages:
            terminalreporter.line(note)
        for finding in findings:
            sink = finding.sink
            times = f" ({finding.count} times)" if finding.count > 1 else ""
            terminalreporter.line(
                f"{os.path.relpath(sink.path, self.root)}:{sink.line}:{sink.column}:"
                f" {finding.code} {finding.message}{times}"
            )
            terminalreporter.line(f"    first seen in {finding.test}")
        verdict = "reported only" if self.report_only else "the run fails"
        plural = "s" if len(findings) != 1 else ""
        terminalreporter.line(f"{len(findings)} runtime finding{plural} ({verdict})")
