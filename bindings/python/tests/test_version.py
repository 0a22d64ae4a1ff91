"""Versions, the error helpers, and the ImportError of an incomplete install."""
import os
import shutil
import subprocess
import sys

import dynmem


def test_versions():
    assert dynmem.__version__ == dynmem.header_version
    assert dynmem.library_version == '%d.%d.%d' % dynmem.library_version_info
    assert dynmem.library_version_info >= tuple(int(x) for x in dynmem.__version__.split('.'))


def test_error_helpers():
    assert dynmem.error_name(-2) == 'DYNMEM_ERR_NO_MEMORY'
    assert dynmem.error_name(0) == 'DYNMEM_OK'
    assert dynmem.strerror(-2) == 'out of memory'
    assert dynmem.ErrorCode.NO_MEMORY == -2
    e = dynmem.Error(-9999)
    assert e.code == -9999 and e.name == 'unknown'
    e = dynmem.Error(dynmem.ErrorCode.ADMISSION, 'f', missing_bytes=5)
    assert e.missing_bytes == 5 and e.function == 'f'
    assert isinstance(e, Exception)
    import pickle
    e2 = pickle.loads(pickle.dumps(e))
    assert e2.code == e.code and e2.missing_bytes == 5


def test_public_names_are_documented():
    for name in dynmem.__all__:
        obj = getattr(dynmem, name)
        if isinstance(obj, (int, str, tuple)):
            continue
        assert obj.__doc__ and obj.__doc__.strip(), name
        for attr, member in vars(obj).items() if isinstance(obj, type) else ():
            if attr.startswith('_') or not callable(member) and not isinstance(member, property):
                continue
            if isinstance(member, (staticmethod, classmethod)):
                member = member.__func__
            assert member.__doc__, f'{name}.{attr}'


def _run_copy(tmp_path, keep_extension):
    src = os.path.dirname(dynmem.__file__)
    dst = tmp_path / 'dynmem'
    shutil.copytree(src, dst, ignore=shutil.ignore_patterns('*.p', '__pycache__'))
    if not keep_extension:
        for f in dst.iterdir():
            if f.name.startswith('_dynmem') and f.suffix == '.so':
                f.unlink()
    env = {k: v for k, v in os.environ.items() if k not in ('LD_LIBRARY_PATH', 'PYTHONPATH')}
    env['PYTHONPATH'] = str(tmp_path)
    return subprocess.run([sys.executable, '-c', 'import dynmem'], env=env,
                          capture_output=True, text=True, cwd=tmp_path)


def test_import_error_without_compiled_module(tmp_path):
    r = _run_copy(tmp_path, keep_extension=False)
    assert r.returncode != 0
    assert 'ImportError: dynmem: the compiled module dynmem._dynmem is missing' in r.stderr


def test_import_error_without_libdynmem(tmp_path):
    # The copied extension's build rpath ($ORIGIN/...) no longer leads to
    # libdynmem; unless one is installed on the system, the import must say so.
    r = _run_copy(tmp_path, keep_extension=True)
    system_lib = subprocess.run(['/sbin/ldconfig', '-p'], capture_output=True,
                                text=True).stdout.count('libdynmem.so.1')
    if system_lib:
        assert r.returncode == 0, r.stderr
    else:
        assert r.returncode != 0
        assert 'ImportError: dynmem: the C library libdynmem.so.1 could not be loaded' in r.stderr
