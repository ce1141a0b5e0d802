"""The widgets load in a participant's kernel without the platform: no server code, no database."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from coop_widgets import EXPORTS

#: What a kernel must not load for the widgets: the scorer itself and what only its service needs.
HEAVY = ("scorer", "sqlalchemy", "dask", "distributed", "fastapi")


@pytest.mark.parametrize("module", ["coop_widgets", *sorted(set(EXPORTS.values()))])
def test_importing_a_widget_module_loads_no_server_code(module: str) -> None:
    probe = f"import json, sys\nimport {module}\nprint(json.dumps(sorted(sys.modules)))"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    modules = set(json.loads(done.stdout))
    loaded = {name.partition(".")[0] for name in modules}
    assert module in modules
    assert loaded.isdisjoint(HEAVY), sorted(loaded & set(HEAVY))
