#!/usr/bin/env python3
"""The installed package works: stage `meson install` into a scratch
directory, then import dynmem from there (and only there) and use it.

Usage: install_test.py BUILD_DIR
"""
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile

PROBE = '''
import dynmem
print(dynmem.__file__)
assert dynmem.__version__ == dynmem.library_version, (dynmem.__version__, dynmem.library_version)
m = dynmem.decode(dynmem.encode(dynmem.BalloonRequest(num_pages=5, trans_id=1)))
assert m == dynmem.BalloonRequest(num_pages=5, trans_id=1)
'''


def main(argv):
    """Install argv[1] into a staging directory and import the package from it."""
    if len(argv) != 2:
        sys.exit(__doc__)
    stage = pathlib.Path(tempfile.mkdtemp(prefix='dynmem-pyinstall-'))
    try:
        subprocess.run(['meson', 'install', '-C', argv[1], '--destdir', str(stage),
                        '--no-rebuild', '--quiet'], check=True, stdout=subprocess.DEVNULL)
        inits = [p for p in stage.rglob('dynmem/__init__.py')]
        libs = [p for p in stage.rglob('libdynmem.so.1')]
        exts = [p for p in stage.rglob('dynmem/_dynmem*.so')]
        if len(inits) != 1 or len(libs) != 1 or len(exts) != 1:
            sys.exit(f'install_test: expected one package, extension and library, got '
                     f'{inits}, {exts}, {libs}')
        site = inits[0].parent.parent
        env = {k: v for k, v in os.environ.items() if k not in ('PYTHONPATH', 'LD_LIBRARY_PATH')}
        # The installed rpath names the real libdir, not the staging copy.
        env.update(PYTHONPATH=str(site), LD_LIBRARY_PATH=str(libs[0].parent),
                   PYTHONDONTWRITEBYTECODE='1')
        r = subprocess.run(['/usr/bin/python3', '-c', PROBE], env=env, cwd=stage,
                           capture_output=True, text=True)
        sys.stdout.write(r.stdout)
        sys.stderr.write(r.stderr)
        if r.returncode != 0:
            sys.exit('install_test: the installed package does not work')
        if not r.stdout.strip().startswith(str(stage)):
            sys.exit('install_test: dynmem was not imported from the staged install')
        print(f'install_test: dynmem installed to {site.relative_to(stage)} works')
    finally:
        shutil.rmtree(stage)


if __name__ == '__main__':
    main(sys.argv)
