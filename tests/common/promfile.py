"""Test helper: read one series from the Prometheus text file the daemons
write (examples/common/metrics.c). Python standard library only."""
import re


def metric(path, name, vm=None):
    """The value of series `name` (for VM `vm`, if given), None if absent."""
    try:
        text = open(path).read()
    except OSError:
        return None
    label = r'\{vm="%s"[^}]*\}' % re.escape(vm) if vm else ""
    m = re.search(r"^%s%s (\S+)$" % (re.escape(name), label), text, re.M)
    return float(m.group(1)) if m else None


def vm_state(path, vm):
    """The state the file gives VM `vm` (managed, disconnected, ...), or None."""
    try:
        text = open(path).read()
    except OSError:
        return None
    m = re.search(r'^dynmem_vm_state\{vm="%s",state="([\w-]+)"\} 1$' % re.escape(vm), text, re.M)
    return m.group(1) if m else None
