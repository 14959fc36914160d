"""Fixtures of the fault-injection tests (tests/fault, run by .stack/test
after the end-to-end and browser steps, since they kill workers and stop the
database): the end-to-end suite's fixtures (tests/e2e/conftest.py, loaded
under another module name) and helpers. The tests add the figures the
release note quotes with the `figures` fixture; they are printed together at
the end, before the closing "fault: N passed, N failed" line."""

import importlib.util
import os
import sys

import pytest

E2E = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "e2e")
sys.path.insert(0, E2E)

_spec = importlib.util.spec_from_file_location("e2e_conftest", os.path.join(E2E, "conftest.py"))
_e2e = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_e2e)

base = _e2e.base
anon = _e2e.anon
admin_credentials = _e2e.admin_credentials
admin = _e2e.admin
make_customer = _e2e.make_customer
customer = _e2e.customer
space = _e2e.space
origin = _e2e.origin
dlcs_repo = _e2e.dlcs_repo
dlcs_var = _e2e.dlcs_var
stack_config = _e2e.stack_config


@pytest.fixture(scope="session")
def figures(request):
    """A list: each test appends the lines of figures it measured."""
    lines = []
    request.config._fault_figures = lines
    return lines


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_sessionfinish(session, exitstatus):
    yield
    tr = session.config.pluginmanager.get_plugin("terminalreporter")
    if tr is None:
        return
    for line in getattr(session.config, "_fault_figures", []):
        tr.write_line("fault figures: " + line)
    passed, failed = _e2e._e2e_counts(tr.stats)
    tr.write_line("fault: %d passed, %d failed" % (passed, failed))
