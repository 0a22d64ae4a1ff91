#!/usr/bin/python3
"""Layering rules of lib/ that the compiler does not enforce.

1. The estimator's layout is its own: only lib/pressure*.c include
   pressure_handle.h (the handle) or pressure_internal.h (the history);
   the balancer goes through pressure_observe.h.
2. The dependency between the policy dispatcher (balancer_policy.c) and
   the peer policies (policy_*.c) is one-way: a policy calls no function
   the dispatcher's file defines.

Usage: check-layering.py SOURCE_ROOT. Prints each breach; exit 1 if any."""
import pathlib
import re
import sys

PRIVATE_ESTIMATOR = ('pressure_handle.h', 'pressure_internal.h')
INCLUDE = re.compile(r'^\s*#\s*include\s*"([^"]+)"', re.M)
# A definition: at the start of a line, a return type, the name, and no ';'
# before the body.
DEFINITION = re.compile(r'^(?!static\b)[A-Za-z_][\w \*]*?\b(dynmem__\w+)\s*\([^;{]*\)\s*\{', re.M)
CALL = re.compile(r'\b(dynmem__\w+)\s*\(')


def estimator_breaches(lib):
    out = []
    for f in sorted(lib.iterdir()):
        if f.suffix not in ('.c', '.h') or f.name.startswith('pressure'):
            continue
        for inc in INCLUDE.findall(f.read_text()):
            if inc in PRIVATE_ESTIMATOR:
                out.append(f'lib/{f.name} includes the estimator\'s private {inc}')
    return out


def cycle_breaches(lib):
    dispatcher = lib / 'balancer_policy.c'
    defined = set(DEFINITION.findall(dispatcher.read_text()))
    out = []
    for f in sorted(lib.glob('policy_*.c')):
        for name in sorted(set(CALL.findall(f.read_text())) & defined):
            out.append(f'lib/{f.name} calls {name}, defined in the dispatcher\'s '
                       'balancer_policy.c')
    return out


def main():
    lib = pathlib.Path(sys.argv[1]) / 'lib'
    breaches = estimator_breaches(lib) + cycle_breaches(lib)
    for b in breaches:
        print(b)
    return 1 if breaches else 0


if __name__ == '__main__':
    sys.exit(main())
