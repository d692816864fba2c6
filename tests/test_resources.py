"""ResourceSampler: phases, CPU use, threads and descriptors are really measured."""

import threading
import time

from pipeline.measure.resources import ResourceSampler, open_fds, rss_mb


def _spin(seconds: float) -> None:
    end = time.process_time() + seconds
    while time.process_time() < end:
        pass


def test_phases_cpu_threads_and_descriptors(tmp_path):
    release = threading.Event()
    with ResourceSampler(interval=0.02, gpu=False) as sampler:
        sampler.phase = "idle"
        time.sleep(0.2)
        sampler.phase = "busy"
        _spin(0.3)
        sampler.phase = "more"
        files = [open(tmp_path / f"f{i}", "w") for i in range(5)]  # noqa: SIM115
        worker = threading.Thread(target=release.wait)
        worker.start()
        time.sleep(0.1)
        sampler.sample()
        release.set()
        worker.join()
        for handle in files:
            handle.close()
    summary = sampler.summary()
    assert {"idle", "busy", "more"} <= set(summary)
    assert summary["busy"].cpu_cores_mean > 0.5 > summary["idle"].cpu_cores_mean
    assert summary["more"].threads_peak >= summary["idle"].threads_peak + 1
    more = [s for s in sampler.samples if s.phase == "more"]
    idle = [s for s in sampler.samples if s.phase == "idle"]
    assert max(s.open_fds for s in more) >= max(s.open_fds for s in idle) + 5
    assert summary["idle"].gpu_percent_mean is None
    assert [row["phase"] for row in sampler.as_rows()][:2] == ["start", "idle"]


def test_rss_and_fds_read_this_process():
    import mmap

    # a fresh anonymous mapping: a heap allocation could reuse freed pages that are
    # still resident, and RSS would not move (seen once in CI)
    size = 64 * 2**20
    block = mmap.mmap(-1, size)
    before = rss_mb()
    for offset in range(0, size, mmap.PAGESIZE):  # touch every page
        block[offset] = 1
    assert rss_mb() > before + 50
    block.close()
    assert open_fds() >= 3  # stdin, stdout, stderr at least
