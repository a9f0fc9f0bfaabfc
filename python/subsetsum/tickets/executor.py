"""Where the first solve of a ticket runs: in this process, or sharded over a Ray cluster.

An executor runs *jobs*: calls ``fn(*args)`` of one module-level function on argument tuples,
and yields their results **in submission order**, so the driver that consumes them does exactly
the same bookkeeping in the same order whichever executor ran them. Inputs every job reads (the
source, the ER masks, a layer's group matrix) are handed over once with :meth:`Executor.share`
and the handle passed as a job argument; a job function must be pure (its result a function of
its arguments alone) and must not write to its arguments, which may be read-only.

* :class:`LocalExecutor` (``executor=None`` or ``"local"``): the jobs run in this process, on
  as many threads as it has CPUs (each job's compiled calls on one core) while the consumer works
  on the results already back, or one after the other on the calling thread; sharing is the
  identity.
* :class:`RayExecutor` (``executor="ray"``): the jobs run as Ray tasks on the cluster
  ``ray.init`` connected to (a local one is started when Ray is not initialized), short ones
  several to a task, a bounded number in flight; shared inputs go to the object store once
  (``ray.put``). A task whose worker died is run again (``max_retries``); since results are
  consumed by position, the merge stays exact.

:func:`get_executor` turns the ``executor`` argument of :func:`~subsetsum.construct_ticket` into
an executor.
"""

from __future__ import annotations

import abc
import itertools
import json
import logging
import numbers
import os
import pickle
import sys
import time
from collections import deque
from pathlib import Path

from .._checks import check_int, check_positive_float

__all__ = ["Executor", "LocalExecutor", "RayExecutor", "CheckpointExecutor", "get_executor", "EXECUTORS"]

EXECUTORS = ("local", "ray")
# Jobs in flight per CPU (a RayExecutor without max_in_flight: of the cluster; a LocalExecutor:
# per thread): enough to keep every CPU busy while the driver consumes results in order, few
# enough to bound memory.
IN_FLIGHT_PER_CPU = 2


class Executor(abc.ABC):
    """Runs jobs ``fn(*args)`` and yields their results in submission order.

    Subclasses implement :meth:`share` and :meth:`map`.

    >>> ex = get_executor(None)
    >>> isinstance(ex, Executor), list(ex.map(pow, [(2, 3), (3, 2)]))
    (True, [8, 9])
    """

    @abc.abstractmethod
    def share(self, value):
        """A handle to ``value`` (read-only from now on) to pass as a job argument in its place."""

    @abc.abstractmethod
    def map(self, fn, jobs):
        """Run ``fn(*args)`` for every argument tuple of the iterable ``jobs``; yield the results
        in the order of ``jobs``. ``fn`` must be a module-level (picklable) function; the
        arguments may be handles returned by :meth:`share`."""


class LocalExecutor(Executor):
    """Runs every job in this process; results come in submission order.

    Parameters
    ----------
    threads : int >= 1, optional
        Jobs run at once (default: the CPUs this process may use). With more than one, each job
        runs on a thread of a pool whose compiled calls (source draws, gathers, the solver) use
        one core each, up to ``2 * threads`` jobs ahead of the consumer, while the consumer
        (the ticket's bookkeeping, on the calling thread) works on the results already back:
        the cores stay busy with jobs while it runs, where a job that spread over every core
        left all but one idle during the bookkeeping (and lost some of its own time in the
        cores' hand-offs: benchmarks/results/scale.md has the figures). With 1, a job runs on
        the calling thread when its result is asked for, each compiled call on every core.
        Either way the results are the same, since jobs are pure.

    Notes
    -----
    On Ctrl-C (or an error) while results are consumed, jobs not yet started are dropped and
    the ones running (a block each) are waited for.

    Examples
    --------
    >>> ex = LocalExecutor()
    >>> data = ex.share([1, 2, 3])
    >>> list(ex.map(max, [(data,), ([4, 0],)]))
    [3, 4]
    >>> list(LocalExecutor(threads=3).map(pow, [(2, k) for k in range(6)]))
    [1, 2, 4, 8, 16, 32]
    """

    def __init__(self, threads: int | None = None):
        self.threads = None if threads is None else check_int("threads", threads, 1)

    def share(self, value):
        return value

    def map(self, fn, jobs):
        from ..solve import available_cpus

        threads = available_cpus() if self.threads is None else self.threads
        if threads == 1:
            for args in jobs:
                yield fn(*args)
            return
        from concurrent.futures import Future, ThreadPoolExecutor

        pool = ThreadPoolExecutor(threads, thread_name_prefix="subsetsum-job", initializer=_one_core_per_call)
        try:  # cancelling drops the jobs not started; shutdown waits for the running ones
            yield from _in_order(lambda *args: pool.submit(fn, *args), Future.result, Future.cancel, jobs,
                                 IN_FLIGHT_PER_CPU * threads)
        finally:
            pool.shutdown(wait=True)

    def __repr__(self) -> str:
        return f"LocalExecutor(threads={self.threads})"


def _in_order(submit, result, cancel, jobs, limit: int):
    """``result(submit(*args))`` for every argument tuple of ``jobs``, in their order, with at most
    ``limit`` submitted and not yet consumed; an error, Ctrl-C or a consumer that stops early
    ``cancel``s what is still pending."""
    pending = deque()
    try:
        for args in jobs:
            pending.append(submit(*args))
            if len(pending) >= limit:
                yield result(pending.popleft())
        while pending:
            yield result(pending.popleft())
    finally:
        for handle in pending:
            cancel(handle)


def _one_core_per_call() -> None:
    """A job thread's compiled calls use one core each: the pool's threads are the parallelism."""
    from .. import _core

    _core.set_thread_default(1)
    if "numba" in sys.modules:  # numba's thread count is per thread too; not loaded for it
        # the import waits while another thread is still importing numba (a partly initialised
        # module in sys.modules had no set_num_threads yet and broke the pool)
        import numba

        numba.set_num_threads(1)


class RayExecutor(Executor):
    """Runs the jobs as Ray tasks, several consecutive jobs to a task.

    Parameters
    ----------
    max_in_flight : int >= 1, optional
        Tasks submitted and not yet consumed at any time (default: 2 x the cluster's CPUs, read
        when a batch of jobs starts). Bounds the driver's and the object store's memory.
    num_gpus : float >= 0
        GPUs each task asks Ray for (``construct_ticket(device="cuda")`` needs some: a task
        sees only the GPUs Ray gave it, the first as ``"cuda"``).
    max_retries : int >= 0
        Times Ray runs a task again whose worker died (default 3). Errors raised by a job are
        not retried: they reach the driver.
    task_seconds : float > 0
        About how long a task should run (default 0.25 s). Each task costs Ray a few
        milliseconds (submitting, scheduling, its result through the object store): short jobs
        (a ticket's blocks take tens of milliseconds) are grouped, as many consecutive ones per
        task as the jobs measured so far fill in this time; the first tasks hold one job each,
        and jobs longer than this run one a task.

    Notes
    -----
    The tasks run on the cluster that ``ray.init`` connected to; to use a remote cluster, call
    ``ray.init(address=...)`` before building. When Ray is not initialized, the first use
    starts a local cluster (quiet: no dashboard, errors only) and leaves it running for later
    builds; ``ray.shutdown()`` stops it. Each task takes one CPU of the cluster.

    The tasks' OpenMP threads sleep as soon as they are idle (``OMP_WAIT_POLICY=passive`` in the
    tasks' environment, unless the driver's environment sets another): by default an idle
    OpenMP thread spins for a while after each parallel region, which within one process
    costs nothing, but with one worker process per CPU it took the CPU from the other workers
    (the jobs' CPU time of a ticket build grew by 40%: benchmarks/results/scale.md). The
    tasks' solves do not watch for Ctrl-C (``_core.set_signal_checks``): the driver stops tasks
    with ``ray.cancel``, and a solve on one core then runs on the task's thread alone.

    Examples
    --------
    >>> import ray  # doctest: +SKIP
    >>> _ = ray.init(num_cpus=2, include_dashboard=False)  # doctest: +SKIP
    >>> ex = RayExecutor(max_in_flight=4)  # doctest: +SKIP
    >>> list(ex.map(pow, [(2, k) for k in range(5)]))  # doctest: +SKIP
    [1, 2, 4, 8, 16]
    """

    def __init__(self, *, max_in_flight: int | None = None, num_gpus: float = 0, max_retries: int = 3,
                 task_seconds: float = 0.25):
        _import_ray()
        if max_in_flight is not None:
            max_in_flight = check_int("max_in_flight", max_in_flight, 1)
        if isinstance(num_gpus, bool) or not isinstance(num_gpus, numbers.Real):
            raise TypeError(f"num_gpus: expected a number >= 0, got {type(num_gpus).__name__}")
        if not num_gpus >= 0:
            raise ValueError(f"num_gpus: expected a number >= 0, got {num_gpus}")
        self.max_in_flight = max_in_flight
        self.num_gpus = num_gpus
        self.max_retries = check_int("max_retries", max_retries, 0)
        self.task_seconds = check_positive_float("task_seconds", task_seconds)

    def _ray(self):
        ray = _import_ray()
        if not ray.is_initialized():
            ray.init(include_dashboard=False, logging_level=logging.ERROR, log_to_driver=False)
        return ray

    def share(self, value):
        return self._ray().put(value)

    def map(self, fn, jobs):
        ray = self._ray()
        env = {"OMP_WAIT_POLICY": os.environ.get("OMP_WAIT_POLICY", "passive")}
        remote = ray.remote(num_cpus=1, num_gpus=self.num_gpus, max_retries=self.max_retries,
                            runtime_env={"env_vars": env})(_run_jobs)
        limit = self.max_in_flight
        if limit is None:
            limit = max(1, IN_FLIGHT_PER_CPU * int(ray.cluster_resources().get("CPU", 1)))
        pace = _TaskPace(self.task_seconds)

        def tasks():
            it = iter(jobs)
            while chunk := list(itertools.islice(it, pace.jobs_per_task)):
                yield (chunk,)

        def submit(chunk):
            # Ray resolves object references passed as arguments of the task itself, not inside
            # them: the jobs' shared handles travel as the task's arguments, each once
            refs = {}
            for args in chunk:
                for a in args:
                    if isinstance(a, ray.ObjectRef):
                        refs.setdefault(a, len(refs))
            spec = [tuple(_Shared(refs[a]) if isinstance(a, ray.ObjectRef) else a for a in args)
                    for args in chunk]
            return remote.remote(fn, spec, *refs)

        def result(handle):
            results, seconds = ray.get(handle)
            pace.record(len(results), seconds)
            return results

        for results in _in_order(submit, result, ray.cancel, tasks(), limit):
            yield from results

    def __repr__(self) -> str:
        return (f"RayExecutor(max_in_flight={self.max_in_flight}, num_gpus={self.num_gpus}, "
                f"max_retries={self.max_retries}, task_seconds={self.task_seconds})")


class _Shared:
    """In a task's job list: the task's ``index``-th shared argument."""

    __slots__ = ("index",)

    def __init__(self, index: int):
        self.index = index

    def __reduce__(self):
        return _Shared, (self.index,)


def _run_jobs(fn, spec, *shared):
    """A task of :class:`RayExecutor`: ``fn(*args)`` for every job of ``spec`` in order, the
    :class:`_Shared` placeholders replaced by the task's resolved arguments. Returns the results
    and the seconds the jobs took."""
    from .. import _core

    start = time.perf_counter()
    # the driver stops a task with ray.cancel (a KeyboardInterrupt between the jobs' calls): its
    # solves need not watch for Ctrl-C, and without a watching thread one on a core runs alone
    checks = _core.set_signal_checks(False)
    try:
        results = [fn(*(shared[a.index] if isinstance(a, _Shared) else a for a in args)) for args in spec]
    finally:
        _core.set_signal_checks(checks)
    return results, time.perf_counter() - start


class _TaskPace:
    """How many consecutive jobs the next task gets: as many as fill ``task_seconds`` at the mean
    job time measured so far (one before any is measured; at most MAX_JOBS_PER_TASK)."""

    MAX_JOBS_PER_TASK = 64

    def __init__(self, task_seconds: float):
        self.task_seconds = task_seconds
        self.jobs = 0
        self.seconds = 0.0

    def record(self, jobs: int, seconds: float) -> None:
        self.jobs += jobs
        self.seconds += seconds

    @property
    def jobs_per_task(self) -> int:
        if self.jobs == 0:
            return 1
        per_job = max(self.seconds / self.jobs, 1e-9)
        return int(min(self.MAX_JOBS_PER_TASK, max(1, self.task_seconds / per_job)))


class CheckpointExecutor(Executor):
    """Runs jobs on ``inner`` and keeps every result in ``folder``, so that an interrupted run
    started again with the same folder and fingerprint continues where it stopped.

    Results are keyed by position: the k-th ``map`` call of this executor, the i-th job of that
    call. A run that makes the same calls with the same jobs (the same build, which the
    ``fingerprint`` stands for) reads the finished jobs back and runs only the others; since
    every job is pure, the results and everything built from them are those of an uninterrupted
    run. Each result is written when it is consumed (atomically: a file is whole or absent).

    Parameters
    ----------
    inner : Executor
        Where the jobs that have no stored result run.
    folder : str or Path
        Created if needed; holds ``manifest.json`` (the fingerprint) and one file per result.
    fingerprint : str
        Identifies the run (e.g. a hash of the target and the options). A folder written under
        another fingerprint is refused with a ValueError, never mixed in.

    Attributes
    ----------
    reused, computed : int
        Results read back from the folder and results computed by ``inner`` so far.

    Examples
    --------
    >>> import tempfile
    >>> folder = tempfile.mkdtemp()
    >>> first = CheckpointExecutor(LocalExecutor(), folder, "squares")
    >>> list(first.map(pow, [(2, 2), (3, 2)]))
    [4, 9]
    >>> again = CheckpointExecutor(LocalExecutor(), folder, "squares")
    >>> list(again.map(pow, [(2, 2), (3, 2), (4, 2)])), again.reused, again.computed
    ([4, 9, 16], 2, 1)
    """

    def __init__(self, inner: Executor, folder, fingerprint: str):
        if not isinstance(inner, Executor):
            raise TypeError(f"inner: expected an Executor, got {type(inner).__name__}")
        self.inner = inner
        self.folder = Path(folder)
        self.fingerprint = str(fingerprint)
        self.folder.mkdir(parents=True, exist_ok=True)
        manifest = self.folder / "manifest.json"
        if manifest.exists():
            try:
                stored = json.loads(manifest.read_text()).get("fingerprint")
            except (OSError, ValueError, AttributeError) as err:
                raise ValueError(f"folder: {str(manifest)!r} is not a checkpoint manifest ({err})") from err
            if stored != self.fingerprint:
                raise ValueError(f"folder: {str(self.folder)!r} holds the checkpoint of another run "
                                 f"(fingerprint {stored!r}, this run {self.fingerprint!r}); remove it or "
                                 "choose another folder")
        else:
            self._write(manifest, json.dumps({"fingerprint": self.fingerprint}).encode())
        self._calls = 0
        self.reused = 0
        self.computed = 0

    @property
    def stored(self) -> int:
        """Results in the folder."""
        return sum(1 for _ in self.folder.glob("*.result"))

    def _path(self, call: int, job: int) -> Path:
        return self.folder / f"{call:05d}-{job:08d}.result"

    @staticmethod
    def _write(path: Path, data: bytes) -> None:
        tmp = path.with_name(path.name + ".tmp")
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)

    def share(self, value):
        return self.inner.share(value)

    def map(self, fn, jobs):
        call = self._calls
        self._calls += 1
        order = []  # (job index, stored?) in job order, as far as the inner executor has read

        def to_run():
            for i, args in enumerate(jobs):
                stored = self._path(call, i).exists()
                order.append((i, stored))
                if not stored:
                    yield args

        results = self.inner.map(fn, to_run())
        ready = deque()
        done = False
        position = 0
        while True:
            if position < len(order):
                i, stored = order[position]
                if stored:
                    with open(self._path(call, i), "rb") as f:
                        value = pickle.load(f)
                    self.reused += 1
                    position += 1
                    yield value
                    continue
                if ready:
                    value = ready.popleft()
                    self._write(self._path(call, i), pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL))
                    self.computed += 1
                    position += 1
                    yield value
                    continue
            if done:
                if position < len(order):
                    raise RuntimeError("the inner executor returned fewer results than it was given jobs")
                return
            try:
                ready.append(next(results))
            except StopIteration:
                done = True

    def __repr__(self) -> str:
        return f"CheckpointExecutor({self.inner!r}, {str(self.folder)!r})"


def get_executor(value, *, jobs_use_every_core: bool = False) -> Executor:
    """The executor for ``construct_ticket(..., executor=value)``.

    Parameters
    ----------
    value : None, "local", "ray" or an Executor
        None and "local": :class:`LocalExecutor` (on as many threads as there are CPUs); "ray":
        a :class:`RayExecutor` with its defaults (needs ``pip install "subsetsum[distributed]"``);
        an executor is returned as is.
    jobs_use_every_core : bool
        The jobs are parallel themselves (solver calls on every core, device kernels): a local
        executor, given or made, runs them one at a time on the calling thread.

    Examples
    --------
    >>> get_executor(None)
    LocalExecutor(threads=None)
    >>> get_executor("dask")
    Traceback (most recent call last):
    ...
    ValueError: executor: expected None, 'local', 'ray' or an Executor (LocalExecutor, RayExecutor), got 'dask'
    """
    if value is None or (isinstance(value, str) and value == "local"):
        value = LocalExecutor()
    if isinstance(value, LocalExecutor) and jobs_use_every_core:
        return LocalExecutor(threads=1)
    if isinstance(value, Executor):
        return value
    if isinstance(value, str) and value == "ray":
        return RayExecutor()
    raise ValueError("executor: expected None, 'local', 'ray' or an Executor (LocalExecutor, RayExecutor), "
                     f"got {value!r}")


def _import_ray():
    try:
        import ray
    except ImportError as err:
        raise ImportError('executor: "ray" needs Ray, which is not installed; '
                          'pip install "subsetsum[distributed]"') from err
    return ray
