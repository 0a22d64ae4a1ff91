"""docs/python.md lists every public object of the package and every public
member of every public class, so the reference cannot fall behind the code.

The public surface is read from the package itself: every name in
``dynmem.__all__``; for a class, every name not starting with ``_`` that it
or a base class of the package defines (methods, properties, class
attributes), its dataclass fields, the attributes its methods assign to
``self``, and for an enum every member. A member counts as documented when it
appears in backticks in the reference section (under "## Reference") of its
class, or of a base class that has its own section there.
"""
import ast
import dataclasses
import enum
import inspect
import os
import re
import textwrap

import pytest

import dynmem

REFERENCE_HEADING = '## Reference'


@pytest.fixture(scope='module')
def reference():
    """The reference part of docs/python.md, split into class sections."""
    root = os.environ.get('DYNMEM_SOURCE_ROOT')
    assert root, 'run the suite with meson test (DYNMEM_SOURCE_ROOT is not set)'
    with open(os.path.join(root, 'docs', 'python.md'), encoding='utf-8') as f:
        text = f.read()
    assert REFERENCE_HEADING in text, f'docs/python.md has no "{REFERENCE_HEADING}" section'
    return text[text.index(REFERENCE_HEADING):]


def _sections(reference):
    """{heading line: body} of every ### heading of the reference."""
    parts = re.split(r'^(### .*)$', reference, flags=re.M)
    return {parts[i]: parts[i + 1] for i in range(1, len(parts) - 1, 2)}


def _mentions(text, name):
    """Whether text names `name` in backticks (`name`, `name(...)`, `name = ...`)."""
    return re.search(r'`' + re.escape(name) + r'\b', text) is not None


def _ours(cls):
    """Whether a class comes from the dynmem package."""
    return (cls.__module__ or '').split('.')[0] == 'dynmem'


def _self_attributes(cls):
    """Public names assigned to self in the methods of a class's own source."""
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(cls)))
    except (OSError, TypeError):
        return set()
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store) \
                and isinstance(node.value, ast.Name) and node.value.id == 'self':
            names.add(node.attr)
    return names


def public_members(cls):
    """Every public member of a class of the package (see the module doc)."""
    if issubclass(cls, enum.Enum):
        return set(cls.__members__)
    names = set()
    for base in cls.__mro__:
        if not _ours(base):
            continue
        names.update(vars(base))
        names.update(_self_attributes(base))
        if dataclasses.is_dataclass(base):
            names.update(f.name for f in dataclasses.fields(base))
    return {n for n in names if not n.startswith('_')}


def public_classes():
    """Every class exported by ``dynmem.__all__``."""
    return [getattr(dynmem, n) for n in dynmem.__all__
            if inspect.isclass(getattr(dynmem, n))]


def test_surface_is_found():
    """The enumeration itself works: a class with known members is seen."""
    assert {'add_vm', 'tick', 'confirm'} <= public_members(dynmem.Balancer)
    assert {'code', 'detail', 'function'} <= public_members(dynmem.Error)
    assert 'memory_map' in public_members(dynmem.SessionHost)
    assert 'NO_MEMORY' in public_members(dynmem.ErrorCode)


def test_every_public_name_is_documented(reference):
    """Every name of dynmem.__all__ appears in the reference."""
    missing = [n for n in dynmem.__all__ if not _mentions(reference, n)]
    assert not missing, 'docs/python.md does not list: ' + ', '.join(missing)


def test_every_member_is_documented(reference):
    """Every public member of every public class is listed in its section."""
    sections = _sections(reference)
    missing = []
    for cls in public_classes():
        own = [body for head, body in sections.items() if _mentions(head, cls.__name__)]
        if not own:
            missing.append(f'{cls.__name__} (no "### `{cls.__name__}`" section)')
            continue
        texts = [body for base in cls.__mro__ if _ours(base)
                 for head, body in sections.items() if _mentions(head, base.__name__)]
        missing += [f'{cls.__name__}.{m}' for m in sorted(public_members(cls))
                    if not any(_mentions(t, m) for t in texts)]
    assert not missing, 'docs/python.md does not list: ' + ', '.join(missing)
