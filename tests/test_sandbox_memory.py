"""The sandbox's memory accounting: files in its RAM-backed folders (/tmp, /dev/shm, both tmpfs)
count against the memory limit, each page once (scorer/scoring/sandbox/watchdog.py)."""

from __future__ import annotations

import mmap
import os
from pathlib import Path

import pytest

from scorer.challenge.spec import RunLimits
from scorer.exceptions import MemoryExceeded
from scorer.scoring.outcome import check_outcome
from scorer.scoring.sandbox.bwrap import BwrapRunner
from scorer.scoring.sandbox.watchdog import mapped_pss, pss
from tests.test_sandbox import make_request, notebook

MiB = 1024**2
#: /tmp is as large as the disk limit up to 256 MiB: this one is 256 MiB.
LIMITS = RunLimits(wall_time=120, cell_time=60, memory="640MiB", disk="300MB", output="1MB", processes=48)

#: 230 MiB of files in /tmp, 60 MiB in /dev/shm (mapped, so in the kernel's PSS too), then
#: 250 MiB of heap and a pause: neither the processes (~430 MiB with papermill's) nor the files
#: reach the limit alone; together they do.
FILL = (
    "with open('/tmp/fill.bin', 'wb') as f:\n    for _ in range(230):\n        f.write(b'x' * 2**20)",
    "import mmap\n"
    "shm_file = open('/dev/shm/block', 'w+b')\n"
    "shm_file.truncate(60 * 2**20)\n"
    "shm = mmap.mmap(shm_file.fileno(), 60 * 2**20)\n"
    "for i in range(60):\n"
    "    shm[i * 2**20 : (i + 1) * 2**20] = b'x' * 2**20",
    "import numpy as np\nheap = np.ones(250 * 2**20 // 8)",
    "import time\ntime.sleep(30)",
    "open(predictions_path, 'w').write('{}')",
)


@pytest.mark.needs("bwrap")
def test_files_in_tmp_and_dev_shm_count_against_the_memory_limit(tmp_path: Path) -> None:
    request = make_request(tmp_path, notebook(*FILL), LIMITS)
    outcome = BwrapRunner().run(request)
    use = outcome.memory_use
    assert outcome.killed_for == "memory" and use is not None, outcome.log_tail
    assert use.total > LIMITS.memory
    assert use.processes < LIMITS.memory  # the files made the difference
    assert use.folders["/tmp"] >= 200 * MiB and use.folders["/dev/shm"] >= 55 * MiB
    assert not (request.folders.output / "facts.json").exists()
    with pytest.raises(MemoryExceeded) as caught:
        check_outcome(outcome, LIMITS, None, ())
    message = caught.value.user_message
    assert message.startswith("the run used more than its 640 MiB of memory (processes "), message
    assert "files in /tmp 2" in message and "files in /dev/shm 6" in message
    assert "files there are kept in memory" in message


def test_mapped_ram_files_are_counted_with_their_folder_not_in_the_pss(tmp_path: Path) -> None:
    shm = Path("/dev/shm") if os.access("/dev/shm", os.W_OK) else tmp_path
    path = shm / f"coop-test-{os.getpid()}"
    size = 8 * MiB
    try:
        with path.open("w+b") as handle:
            handle.truncate(size)
            with mmap.mmap(handle.fileno(), size) as mapped:
                mapped.write(b"x" * size)
                st_dev = path.stat().st_dev
                device = f"{os.major(st_dev):02x}:{os.minor(st_dev):02x}"
                assert size <= mapped_pss(os.getpid(), {device}) < size + MiB
                assert mapped_pss(os.getpid(), {"ff:ff"}) == 0
                assert pss(os.getpid()) - pss(os.getpid(), {device}) >= size
    finally:
        path.unlink()
