"""Shared fixtures: the package under test must come from the build tree."""
import os

import pytest

import dynmem


@pytest.fixture(scope='session')
def build_root():
    """The meson build directory the suite runs from (DYNMEM_BUILD_ROOT)."""
    root = os.environ.get('DYNMEM_BUILD_ROOT')
    assert root, 'run the suite with meson test (DYNMEM_BUILD_ROOT is not set)'
    return root


def pytest_report_header(config):
    """Show which dynmem is tested."""
    return f'dynmem {dynmem.__version__} from {os.path.dirname(dynmem.__file__)}, ' \
           f'libdynmem {dynmem.library_version}'
