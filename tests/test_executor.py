"""Executors: the first solve on threads or sharded on Ray builds the ticket of one block at a
time bit for bit (L+1 and 2L, dense and ER, a user source), a task whose worker dies is run again and changes nothing, results
come back in submission order, and bad executors are refused with clear errors."""

import os
import sys
import threading
import time

import numpy as np
import pytest

from subsetsum import construct_ticket
from subsetsum.tickets import solve as solve_module
from subsetsum.tickets.executor import Executor, LocalExecutor, RayExecutor, _TaskPace, get_executor

# Deprecations that Ray's own modules raise on some of its versions (none on 2.60); only those.
ray_marks = pytest.mark.filterwarnings("ignore::DeprecationWarning:ray.*")


@pytest.fixture(scope="module")
def ray():
    ray = pytest.importorskip("ray")
    started = not ray.is_initialized()
    if started:
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield ray
    if started:
        ray.shutdown()


# Elements per block: several jobs per layer for these small targets, few enough to stay fast.
ELEMENTS = {"L+1": 20_000, "2L": 1_000}


@pytest.fixture
def small_blocks(monkeypatch):
    monkeypatch.setattr(solve_module, "ELEMENTS_PER_CALL", ELEMENTS["L+1"])


def _target(seed=0):
    rng = np.random.default_rng(seed)
    return [(rng.uniform(-1, 1, (9, 6)), rng.uniform(-1, 1, 9)), (rng.uniform(-1, 1, (4, 9)), rng.uniform(-1, 1, 4))]


def _user_source(seed=5):
    rng = np.random.default_rng(seed)
    return [(rng.uniform(-0.4, 0.4, (900, 6)).astype(np.float32), rng.uniform(-0.4, 0.4, 900).astype(np.float32)),
            rng.uniform(-0.03, 0.03, (900, 900)).astype(np.float32), rng.uniform(-0.03, 0.03, (4, 900)).astype(np.float32)]


def _assert_identical(a, b):
    assert a.shapes == b.shapes
    for (ra, ca), (rb, cb) in zip(a.edges, b.edges):
        assert ra.dtype == rb.dtype and ca.dtype == cb.dtype
        assert np.array_equal(ra, rb) and np.array_equal(ca, cb)
    for x, y in zip(a.bias_rows, b.bias_rows):
        assert (x is None and y is None) or np.array_equal(x, y)
    for x, y in zip(a.errors, b.errors):
        assert np.array_equal(x, y)
    assert np.array_equal(a.output_bounds, b.output_bounds)

    def timeless(meta):
        meta = {k: v for k, v in meta.items() if not k.endswith("seconds")}
        meta["repair"] = {k: v for k, v in meta["repair"].items() if k != "seconds"}
        return meta

    assert timeless(a.metadata) == timeless(b.metadata)
    ra, rb = a.report(samples=2000), b.report(samples=2000)
    for r in (ra, rb):
        r.seconds, r.repair = 0.0, {k: v for k, v in r.repair.items() if k != "seconds"}
    assert ra == rb


class _Counting(RayExecutor):
    """Counts the jobs of every batch (one batch per solve_rows call)."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.batches = []

    def map(self, fn, jobs):
        self.batches.append(0)
        for result in super().map(fn, jobs):
            self.batches[-1] += 1
            yield result


class _CrashOnce(RayExecutor):
    """The first job to start anywhere kills its worker (``os._exit``); the marker file says it did."""

    def __init__(self, marker, **kwargs):
        super().__init__(**kwargs)
        self.marker = str(marker)

    def map(self, fn, jobs):
        marker = self.marker

        def crash_once(*args):  # a closure: sent to the workers by value
            try:
                fd = os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
            except FileExistsError:
                return fn(*args)
            os.close(fd)
            os._exit(1)

        return super().map(crash_once, jobs)


@ray_marks
@pytest.mark.parametrize("density", [1.0, 0.5])
@pytest.mark.parametrize("method", ["L+1", "2L"])
def test_ray_ticket_is_the_local_ticket(ray, monkeypatch, method, density):
    monkeypatch.setattr(solve_module, "ELEMENTS_PER_CALL", ELEMENTS[method])
    local = construct_ticket(_target(), method=method, density=density, seed=3)
    ex = _Counting(max_in_flight=3)
    sharded = construct_ticket(_target(), method=method, density=density, seed=3, executor=ex)
    assert max(ex.batches) >= 3  # the first solve of a layer ran as several jobs
    _assert_identical(local, sharded)


@ray_marks
def test_ray_ticket_with_a_user_source(ray, small_blocks):
    local = construct_ticket(_target(), source=_user_source(), seed=3)
    sharded = construct_ticket(_target(), source=_user_source(), seed=3, executor="ray")
    _assert_identical(local, sharded)


@ray_marks
def test_a_dead_worker_is_retried_and_changes_nothing(ray, small_blocks, tmp_path):
    marker = tmp_path / "crashed"
    local = construct_ticket(_target(), density=0.5, seed=4)
    sharded = construct_ticket(_target(), density=0.5, seed=4, executor=_CrashOnce(marker, max_retries=2))
    assert marker.exists()  # a worker died, and its task ran again
    _assert_identical(local, sharded)


@ray_marks
def test_ray_results_come_in_submission_order(ray):
    def slow_square(i):  # later jobs finish first
        time.sleep(0.05 * (5 - i))
        return i * i

    ex = RayExecutor(max_in_flight=3)
    data = ex.share(np.arange(3))
    assert list(ex.map(slow_square, [(i,) for i in range(6)])) == [i * i for i in range(6)]
    def total(a):
        return int(a.sum())

    assert list(ex.map(total, [(data,)])) == [3]


def test_local_executor_on_one_thread_runs_jobs_lazily_in_order():
    log = []

    def jobs():
        for i in range(4):
            log.append(("job", i))
            yield (i,)

    def square(i):
        log.append(("run", i))
        return i * i

    ex = LocalExecutor(threads=1)
    assert isinstance(ex, Executor) and ex.share(log) is log
    assert list(ex.map(square, jobs())) == [0, 1, 4, 9]
    assert log == [(kind, i) for i in range(4) for kind in ("job", "run")]


def test_local_executor_on_threads_keeps_submission_order_and_a_bounded_lead():
    from subsetsum import _core

    threads = 3
    read = []

    def jobs():
        for i in range(12):
            read.append(i)
            yield (i,)

    def slow_square(i):  # later jobs of each round finish first
        time.sleep(0.002 * (3 - i % 3))
        return i * i, threading.current_thread().name, _core.max_threads()

    results = []
    for value in LocalExecutor(threads=threads).map(slow_square, jobs()):
        results.append(value)
        assert len(read) <= len(results) + 2 * threads  # jobs are read at most 2 x threads ahead
    assert [r[0] for r in results] == [i * i for i in range(12)]
    assert {r[1] for r in results} <= {f"subsetsum-job_{k}" for k in range(threads)}
    assert {r[2] for r in results} == {1}  # each job's compiled calls on one core: the threads share the CPUs
    assert threading.current_thread().name not in {r[1] for r in results}


def _signal_checks_in_job():
    from subsetsum import _core

    checks = _core.set_signal_checks(False)
    _core.set_signal_checks(checks)
    return checks


def test_a_ray_tasks_jobs_solve_without_ctrl_c_checks_and_leave_them_as_they_were():
    from subsetsum import _core
    from subsetsum.tickets.executor import _run_jobs

    results, seconds = _run_jobs(_signal_checks_in_job, [(), ()])
    assert results == [False, False] and seconds >= 0  # the driver cancels tasks; their solves run alone
    assert _core.set_signal_checks(True) is True  # as before the task


def test_local_executor_on_threads_raises_a_jobs_error_in_its_place():
    def job(i):
        if i == 3:
            raise ValueError("job 3 failed")
        return i

    got = []
    with pytest.raises(ValueError, match="job 3 failed"):
        for value in LocalExecutor(threads=2).map(job, [(i,) for i in range(8)]):
            got.append(value)
    assert got == [0, 1, 2]  # every result before the failed job, none after


@pytest.mark.parametrize("density", [1.0, 0.5])
@pytest.mark.parametrize("method", ["L+1", "2L"])
def test_blocks_on_threads_build_the_ticket_of_blocks_one_at_a_time(monkeypatch, method, density):
    monkeypatch.setattr(solve_module, "ELEMENTS_PER_CALL", ELEMENTS[method])
    serial = construct_ticket(_target(), method=method, density=density, seed=3, executor=LocalExecutor(threads=1))
    threaded = construct_ticket(_target(), method=method, density=density, seed=3, executor=LocalExecutor(threads=3))
    _assert_identical(serial, threaded)


@pytest.mark.parametrize("density", [1.0, 0.5])
def test_the_ticket_does_not_depend_on_the_block_size(monkeypatch, density):
    """Blocks are row ranges recorded in row order, so how many rows a block takes (a setting
    tuned for speed) changes nothing: many small blocks build the ticket of one block a layer."""
    whole = construct_ticket(_target(), density=density, seed=5)
    monkeypatch.setattr(solve_module, "ELEMENTS_PER_CALL", 500)
    _assert_identical(whole, construct_ticket(_target(), density=density, seed=5))


def test_get_executor_validates(monkeypatch):
    assert isinstance(get_executor(None), LocalExecutor) and isinstance(get_executor("local"), LocalExecutor)
    ex = LocalExecutor()
    assert get_executor(ex) is ex and ex.threads is None and LocalExecutor(threads=2).threads == 2
    for bad in (0, -1, 1.5, "2"):
        with pytest.raises((TypeError, ValueError), match="threads"):
            LocalExecutor(threads=bad)
    for value in (None, "local", LocalExecutor(threads=4)):  # jobs parallel themselves: one at a time
        assert get_executor(value, jobs_use_every_core=True).threads == 1
    for bad in ("dask", "Ray", 3, object(), LocalExecutor):
        with pytest.raises(ValueError, match=r"executor: expected None, 'local', 'ray' or an Executor"):
            get_executor(bad)
    with pytest.raises(ValueError, match="executor"):
        construct_ticket(_target(), executor="threads")
    monkeypatch.setitem(sys.modules, "ray", None)  # as if Ray were not installed
    with pytest.raises(ImportError, match=r'pip install "subsetsum\[distributed\]"'):
        get_executor("ray")
    with pytest.raises(ImportError, match="distributed"):
        construct_ticket(_target(), executor="ray")


def test_ray_executor_validates_its_settings():
    pytest.importorskip("ray")
    with pytest.raises(ValueError, match="max_in_flight"):
        RayExecutor(max_in_flight=0)
    with pytest.raises(TypeError, match="num_gpus"):
        RayExecutor(num_gpus="1")
    with pytest.raises(ValueError, match="num_gpus"):
        RayExecutor(num_gpus=-1)
    with pytest.raises(ValueError, match="max_retries"):
        RayExecutor(max_retries=-1)
    for bad in (0, -0.5, float("nan"), float("inf")):
        with pytest.raises(ValueError, match="task_seconds"):
            RayExecutor(task_seconds=bad)
    with pytest.raises(TypeError, match="task_seconds"):
        RayExecutor(task_seconds="1")
    assert "max_in_flight=4" in repr(RayExecutor(max_in_flight=4))


def test_task_pace_fills_the_task_time_at_the_measured_job_time():
    pace = _TaskPace(0.25)
    assert pace.jobs_per_task == 1  # nothing measured yet
    pace.record(1, 0.01)
    assert pace.jobs_per_task == 25
    pace.record(3, 0.17)  # mean 0.045 s a job
    assert pace.jobs_per_task == 5
    pace.record(1, 10.0)  # jobs longer than the task time: one a task
    assert pace.jobs_per_task == 1
    quick = _TaskPace(0.25)
    quick.record(1000, 0.0)  # too quick to measure: the cap
    assert quick.jobs_per_task == _TaskPace.MAX_JOBS_PER_TASK


@ray_marks
def test_ray_groups_short_jobs_into_tasks_in_order_with_shared_inputs(ray, monkeypatch):
    monkeypatch.delenv("OMP_WAIT_POLICY", raising=False)

    def job(data, i):
        return (int(data[i]), ray.get_runtime_context().get_task_id(), os.environ.get("OMP_WAIT_POLICY"))

    ex = RayExecutor(max_in_flight=2, task_seconds=5.0)
    data = ex.share(np.arange(40) ** 2)
    results = list(ex.map(job, [(data, i) for i in range(40)]))
    assert [r[0] for r in results] == [i * i for i in range(40)]
    tasks = [r[1] for r in results]
    assert tasks[0] != tasks[1]  # the first tasks run one job each, to time them
    assert len(set(tasks)) < 10  # then the short jobs go many to a task
    assert all(tasks[i] == tasks[i - 1] or tasks[i] not in tasks[:i] for i in range(1, 40))  # consecutive
    assert {r[2] for r in results} == {"passive"}  # idle OpenMP threads sleep: workers share the CPUs


@ray_marks
@pytest.mark.parametrize("mode", ["min_size", "best"])
def test_stats_estimates_on_ray_equal_the_local_ones(ray, monkeypatch, mode):
    from subsetsum import stats

    # many draw blocks and several per shard, so blocks cross shard boundaries
    monkeypatch.setattr(stats, "DRAW_BLOCK", 1000)
    monkeypatch.setattr(stats, "SHARD_PROBLEMS", 3000)
    scenario = stats.Scenario(n=12, eps=0.01, mode=mode, max_size=6 if mode == "min_size" else None, density=0.7)
    local = stats.estimate(scenario, 10_500, seed=4, keep_samples=True)
    seen = []
    remote = stats.estimate(scenario, 10_500, seed=4, keep_samples=True, executor="ray", progress=seen.append)
    assert remote.successes == local.successes and remote.mean_error == local.mean_error
    assert np.array_equal(remote.error_counts, local.error_counts)
    assert np.array_equal(remote.size_counts, local.size_counts)
    assert np.array_equal(remote.errors, local.errors) and np.array_equal(remote.sizes, local.sizes)
    assert sum(seen) == 10_500


@ray_marks
def test_stats_cli_runs_on_ray(ray, tmp_path, capsys):
    from subsetsum.cli import main

    assert main(["stats", "--quick", "--no-plots", "--no-progress", "--samples", "300", "--executor", "ray",
                 "--out", str(tmp_path / "ray")]) == 0
    assert main(["stats", "--quick", "--no-plots", "--no-progress", "--samples", "300",
                 "--out", str(tmp_path / "local")]) == 0
    tables = sorted((tmp_path / "local").glob("*.csv"))
    assert tables
    for table in tables:
        def results(path):  # everything but the wall time
            return [line for line in path.read_text().splitlines() if not line.startswith("seconds,")]
        assert results(table) == results(tmp_path / "ray" / table.name), table.name
