"""A refusal means a hostile or broken guest, nothing else: over every
shipped scenario (the fleet for its first 6 simulated hours here; the slow
suite's soak holds a week of it to the same rule under every policy), no
guest that follows the protocol (every kind but "lying") has a single
message refused by its host session, and the lying guests do."""
import glob
import os

import pytest

from simrun import SCENARIOS, simulate

FILES = sorted(os.path.basename(p) for p in glob.glob(os.path.join(SCENARIOS, "*.json")))


@pytest.mark.parametrize("name", FILES)
def test_no_refusals_for_honest_guests(name):
    extra = ("--duration", str(6 * 3600)) if name == "fleet.json" else ()
    _, summary, _ = simulate(name, *extra)
    lying = 0
    for vm, row in summary.items():
        if row["kind"] == "lying":
            lying += int(row["refusals"])
        else:
            assert int(row["refusals"]) == 0, f"{name}: {vm} ({row['kind']}) refused"
    if any(row["kind"] == "lying" for row in summary.values()):
        assert lying > 0, f"{name}: the lying guests were never refused"


def test_every_shipped_scenario_is_covered():
    assert "fleet.json" in FILES and "s1.json" in FILES
