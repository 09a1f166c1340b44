"""`--backend dask`: the batch kernel mapped over a Dask DataFrame with one partition per file
of the input, on a local cluster bound to 127.0.0.1 or on a running scheduler.

Each partition is read by agrad's own readers (so a bad cell names its file, row and column)
and evaluated by the same Kernel as a single-machine run, so every row is identical to the
bit. Outputs are written under temporary names and renamed when every partition is done.
"""

from __future__ import annotations

import contextlib
import functools
import itertools
import os
import shutil
import uuid
from collections import deque
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from ..errors import AgradError
from .batch import BatchResult, Kernel

PART_SUFFIXES = (".parquet", ".csv", ".arrow", ".feather", ".ipc")
PATH_KEY = "agrad_path"  # the partition's file, kept in the pandas frame's attrs
AHEAD = 4  # partitions in flight while one output file is written in order


def need_dask():
    """dask.dataframe and distributed, or a clear error naming the extra to install."""
    try:
        import dask.dataframe as dd
        import distributed
    except ImportError:
        raise AgradError(
            "--backend dask needs dask and distributed, which are not installed",
            None,
            "pip install 'agrad[dask]'",
        ) from None
    return dd, distributed


HANDSHAKE_SECONDS = 5.0  # the whole exchange with a --scheduler: connect, handshake, identity


@contextlib.contextmanager
def connect(address: str | None, workers: int | None = None) -> Iterator:
    """A client of the scheduler at `address`, or of a local cluster on 127.0.0.1 only."""
    _, distributed = need_dask()
    if address is None:
        check_workers(workers)
        with (
            local_cluster(workers) as cluster,
            distributed.Client(cluster) as client,
            lost_work(distributed),
        ):
            yield client
        return
    if workers is not None:
        raise AgradError(
            "--workers sizes the local cluster; the workers of a --scheduler are its own",
            None,
            "drop --workers, or drop --scheduler",
        )
    probe(address, HANDSHAKE_SECONDS)
    try:
        client = distributed.Client(address, timeout=f"{HANDSHAKE_SECONDS}s")
    except (OSError, TimeoutError, ValueError) as exc:
        raise _unreachable(address, str(exc)) from None
    with client, lost_work(distributed):
        yield client


@contextlib.contextmanager
def lost_work(distributed) -> Iterator[None]:
    """Work the cluster gave up on (a partition whose workers kept dying, a task cancelled,
    the scheduler gone) as a clear error; the caller's cleanup leaves no output."""
    import concurrent.futures

    try:
        yield
    except distributed.KilledWorker as exc:
        raise AgradError(
            f"the Dask workers running a partition ({getattr(exc, 'task', '?')}) died too "
            "often; no output was written",
            None,
            "check the workers' memory limit and logs, or split the file",
        ) from None
    except (concurrent.futures.CancelledError, distributed.comm.CommClosedError) as exc:
        raise AgradError(
            f"the Dask cluster stopped the run ({type(exc).__name__}: {exc}); no output was "
            "written"
        ) from None


def _unreachable(address: str, why: str) -> AgradError:
    return AgradError(
        f"cannot reach the Dask scheduler at {address}: {why}",
        None,
        "start one with `dask scheduler` (and workers), or drop --scheduler for a local cluster",
    )


def probe(address: str, seconds: float) -> None:
    """Ask the peer at `address` who it is, the whole exchange within `seconds`: a peer that
    stays silent, answers other bytes or is not a scheduler is an error naming it."""
    import asyncio

    from distributed.comm.addressing import parse_address
    from distributed.comm.registry import get_backend

    try:
        get_backend(parse_address(address)[0])
    except ValueError as exc:  # a malformed address or an unknown scheme
        raise _unreachable(address, str(exc)) from None
    try:
        kind = asyncio.run(asyncio.wait_for(_identity(address, seconds), seconds))
    except (asyncio.TimeoutError, TimeoutError):
        raise _unreachable(address, f"no Dask handshake within {seconds:g} s") from None
    except OSError as exc:
        raise _unreachable(address, exc.strerror or str(exc)) from None
    except Exception as exc:  # whatever a stranger's bytes make the decoder do
        why = str(exc) if "encryption" in str(exc) else "it does not speak Dask's protocol"
        if "ssl_context" in str(exc):
            why = ("a tls:// scheduler needs TLS credentials (Dask's distributed.comm.tls "
                   "ca-file, client.cert and client.key settings)")  # fmt: skip
        raise _unreachable(address, why) from None
    if kind != "Scheduler":
        raise _unreachable(address, f"it is a Dask {kind or 'peer'}, not a scheduler")


async def _identity(address: str, seconds: float) -> str | None:
    """The type the peer reports (`Scheduler` for a scheduler)."""
    from distributed.comm import connect as comm_connect
    from distributed.security import Security

    args = Security().get_connection_args("client")
    comm = await comm_connect(address, timeout=seconds, deserialize=False, **args)
    try:
        await comm.write({"op": "identity", "reply": True})
        reply = await comm.read()
    finally:
        comm.abort()
    return reply.get("type") if isinstance(reply, dict) else None


def local_cluster(workers: int | None = None, memory_limit: str | None = None):
    """A LocalCluster of worker processes in which everything listens on 127.0.0.1 only:
    scheduler, workers, nannies, and the scheduler's HTTP endpoint on a free port (no
    dashboard). Every connection is TLS with a certificate made for this cluster alone
    (`Security.temporary()`), so a process that does not hold it cannot connect."""
    _, distributed = need_dask()
    return distributed.LocalCluster(
        n_workers=workers or min(2, usable_cores()), threads_per_worker=1, processes=True,
        host="127.0.0.1", dashboard_address=None, silence_logs=50,
        scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},
        memory_limit=memory_limit or "auto", security=credentials(),
    )  # fmt: skip


def credentials():
    """TLS credentials made for one run: a new certificate authority and certificate, held
    in memory only (needs the `cryptography` package, part of the dask extra)."""
    from distributed.security import Security

    try:
        return Security.temporary()
    except ImportError:
        raise AgradError(
            "the local Dask cluster needs the cryptography package for its TLS credentials",
            None,
            "pip install 'agrad[dask]'",
        ) from None


def tls_settings(security) -> dict:
    """Dask settings that give a client in this process these credentials."""
    return {
        "distributed.comm.require-encryption": True,
        "distributed.comm.tls.ca-file": security.tls_ca_file,
        "distributed.comm.tls.client.cert": security.tls_client_cert,
        "distributed.comm.tls.client.key": security.tls_client_key,
    }


def tls_environment(security, folder: Path) -> dict[str, str]:
    """Environment variables that give a Dask client in another process these credentials
    (Dask's `distributed.comm.tls` settings), written as files in `folder` for this user
    only."""
    env = {"DASK_DISTRIBUTED__COMM__REQUIRE_ENCRYPTION": "True"}
    pems = {"CA_FILE": security.tls_ca_file, "CLIENT__CERT": security.tls_client_cert,
            "CLIENT__KEY": security.tls_client_key}  # fmt: skip
    for key, pem in pems.items():
        path = folder / f"dask-{key.lower().replace('__', '-')}.pem"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as fh:
            fh.write(pem)
        env[f"DASK_DISTRIBUTED__COMM__TLS__{key}"] = str(path)
    return env


def usable_cores() -> int:
    """The cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def check_workers(workers: int | None) -> None:
    """Refuse more local workers than the machine has cores."""
    cores = usable_cores()
    if workers is not None and workers > cores:
        raise AgradError(
            f"--workers {workers}: this machine has {cores} core{'s' * (cores != 1)}; a local "
            "cluster runs at most one worker per core",
            None,
            f"use --workers {cores} or fewer, or --scheduler for a cluster of many machines",
        )


def input_files(path: str) -> list[str]:
    """The files of a dataset: one file, or every points file under a folder (sorted); a URL
    is listed through fsspec."""
    if "://" in path:
        import fsspec

        fs, root = fsspec.core.url_to_fs(path)
        found = sorted(fs.find(root)) if fs.isdir(root) else [root]
        files = [
            fs.unstrip_protocol(f) for f in found
            if f.lower().endswith(PART_SUFFIXES) and not f.rsplit("/", 1)[-1].startswith(".")
        ]  # fmt: skip
    elif Path(path).is_dir():
        files = sorted(
            str(f) for f in Path(path).rglob("*")
            if f.is_file() and f.suffix.lower() in PART_SUFFIXES and not f.name.startswith(".")
        )  # fmt: skip
    elif Path(path).is_file():
        files = [path]
    else:
        raise AgradError(f"no such file or folder: {path}")
    if not files:
        raise AgradError(
            f"{path}: no points files in this folder",
            None,
            f"the backend reads {', '.join(PART_SUFFIXES)} files",
        )
    return files


def read_file(path: str) -> tuple[list[str], np.ndarray]:
    """One whole points file: its column names and rows, checked as --at-file checks them."""
    if "://" in path:
        return _read_url(path)
    from ..io.points import read_points

    names, blocks = read_points(path, [], 1 << 20)
    try:
        rows = list(blocks)
    finally:
        close = getattr(blocks, "close", None)
        if close is not None:
            close()
    return names, np.vstack(rows) if rows else np.zeros((0, len(names)))


def _read_url(path: str) -> tuple[list[str], np.ndarray]:
    """A Parquet or CSV file that fsspec can open (any URL the user's Dask can read)."""
    import fsspec

    from ..io.arrow import _float_blocks, need_pyarrow
    from ..io.names import duplicates

    pa = need_pyarrow(f"reading {path}")
    try:
        with fsspec.open(path, "rb") as fh:
            if path.lower().endswith(".csv"):
                import pyarrow.csv as pcsv

                table = pcsv.read_csv(fh)
            else:
                import pyarrow.parquet as pq

                parquet = pq.ParquetFile(fh)
                duplicates(path, list(parquet.schema_arrow.names))
                table = parquet.read()
    except (OSError, pa.ArrowException) as exc:
        raise AgradError(f"cannot read points from {path}: {exc}") from None
    names = list(table.schema.names)
    duplicates(path, names)
    for field in table.schema:
        if not (pa.types.is_floating(field.type) or pa.types.is_integer(field.type)):
            raise AgradError(f"{path}: column '{field.name}' holds {field.type} values")
    blocks = [b for batch in table.to_batches() for b, _ in _float_blocks(batch, 1 << 20)]
    return names, np.vstack(blocks) if blocks else np.zeros((0, len(names)))


class ReadPartition:
    """Read one file as a pandas frame with the columns of the first file, in its order."""

    def __init__(self, names: list[str], first: str):
        self.names, self.first = names, first

    def __call__(self, path: str):
        import pandas as pd

        names, rows = read_file(path)
        if names != self.names:
            missing = [n for n in self.names if n not in names]
            extra = [n for n in names if n not in self.names]
            if missing or extra:
                what = f"has no column '{missing[0]}'" if missing else f"has a column '{extra[0]}'"
                raise AgradError(
                    f"{path}: {what}, unlike {self.first}",
                    None,
                    "every file of a dataset needs the same columns",
                )
            rows = rows[:, [names.index(n) for n in self.names]]
        frame = pd.DataFrame(rows, columns=self.names, copy=False)
        frame.attrs[PATH_KEY] = path
        return frame


@functools.cache
def _libc():
    """glibc, when this is a glibc system (None elsewhere)."""
    import ctypes

    try:
        return ctypes.CDLL("libc.so.6")
    except OSError:
        return None


def release_memory() -> None:
    """Give freed memory back to the system after a partition: glibc and pyarrow's allocator
    keep it otherwise, and Dask counts it against the worker's memory limit (and pauses the
    worker at 80% of it)."""
    import sys

    libc = _libc()
    if libc is not None and hasattr(libc, "malloc_trim"):
        libc.malloc_trim(0)
    if "pyarrow" in sys.modules:  # its own allocator keeps freed buffers too
        sys.modules["pyarrow"].default_memory_pool().release_unused()


class EvaluatePartition:
    """The kernel on one partition: a frame of points in, a frame of results out (with the
    partition's counts in its attrs)."""

    def __init__(self, kernel: Kernel):
        self.kernel = kernel

    def __call__(self, frame):
        import pandas as pd

        path = frame.attrs.get(PATH_KEY)
        block = frame.to_numpy(dtype=np.float64)
        table, result = self.kernel.rows(block, path)
        out = pd.DataFrame(table, columns=self.kernel.columns, copy=False)
        out.attrs["agrad"] = (result.rows, result.nonfinite_rows, result.first_bad, result.engine)
        del block, frame
        release_memory()
        return out


def frames(kernel: Kernel, files: list[str], names: list[str]):
    """The Dask DataFrame of results: one partition per file, read then evaluated."""
    import pandas as pd

    dd, _ = need_dask()
    meta_in = pd.DataFrame({n: np.zeros(0) for n in names})
    points = dd.from_map(ReadPartition(names, files[0]), files, meta=meta_in,
                         enforce_metadata=False, label="agrad-read")  # fmt: skip
    meta_out = pd.DataFrame({c: np.zeros(0) for c in kernel.columns})
    return points.map_partitions(EvaluatePartition(kernel), meta=meta_out,
                                 enforce_metadata=False, align_dataframes=False)  # fmt: skip


def _add(result: BatchResult, counts) -> None:
    rows, bad, first, engine = counts
    if bad and not result.first_bad:
        result.first_bad = first
    result.rows += rows
    result.nonfinite_rows += bad
    result.engine = engine


def write_stream(client, parts: list, result: BatchResult, write, tick) -> None:
    """Every partition in order into one writer, a few computed ahead of the one written."""
    pending: deque = deque()
    todo = iter(parts)
    for part in todo:
        pending.append(client.compute(part))
        if len(pending) >= AHEAD:
            break
    while pending:
        frame = pending.popleft().result()
        nxt = next(todo, None)
        if nxt is not None:
            pending.append(client.compute(nxt))
        _add(result, frame.attrs["agrad"])
        write(result.columns, frame.to_numpy())
        if tick:
            tick(len(frame))


def write_part(frame, folder: str, k: int, kind: str):
    """One partition as `part-00000.<kind>` in `folder` (through a temporary name); its counts."""
    from ..io.arrow import ColumnarWriter, csv_text

    target = Path(folder) / f"part-{k:05d}.{kind}"
    temp = target.with_name(f".{target.name}.{uuid.uuid4().hex}")
    table = frame.to_numpy()
    columns = list(frame.columns)
    try:
        if kind == "csv":
            with open(temp, "w", encoding="utf-8", newline="") as fh:
                fh.write(",".join(columns) + "\n" + csv_text(table))
        else:
            with open(temp, "wb") as fh:
                writer = ColumnarWriter(fh, kind)
                writer.write(columns, table)
                writer.close(BatchResult(columns=columns))
        os.replace(temp, target)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.remove(temp)
        del table
        release_memory()
    return frame.attrs["agrad"]


def write_dataset(client, parts: list, out: str, kind: str, result, tick) -> None:
    """One file per partition in a new folder, renamed to `out` when all are written."""
    from dask import delayed
    from distributed import as_completed

    from ..io.folders import beside, replace_folder

    target = Path(out)
    folder = beside(target)
    try:
        # A few partitions in flight per worker, not all: each holds its points and results.
        tasks = (delayed(write_part)(p, folder, k, kind) for k, p in enumerate(parts))
        ahead = AHEAD * max(1, len(client.scheduler_info().get("workers", {})))
        running = as_completed([client.compute(t) for t in itertools.islice(tasks, ahead)])
        for future in running:
            counts = future.result()
            _add(result, counts)
            if tick:
                tick(counts[0])
            nxt = next(tasks, None)
            if nxt is not None:
                running.add(client.compute(nxt))
        for left in Path(folder).glob(".part-*"):  # a worker killed while writing left these
            left.unlink()
        replace_folder(folder, target)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def reduce_frame(client, ddf, how: str) -> tuple[np.ndarray, int]:
    """Every column's sum or mean over all rows (sums by Dask's tree reduction), and the
    number of rows."""
    sums, count = client.compute([ddf.sum(), ddf.map_partitions(len).sum()])
    total, rows = sums.result().to_numpy(dtype=np.float64), int(count.result())
    if how == "mean":
        total = total / rows if rows else np.full_like(total, np.nan)
    return total.reshape(1, -1), rows


def dataset_names(files: list[str]) -> list[str]:
    """The column names of the dataset's first file."""
    first = files[0]
    if "://" in first:
        return _read_url(first)[0]
    from ..io.points import read_points

    names, blocks = read_points(first, [], 1)
    close = getattr(blocks, "close", None)
    if close is not None:
        close()
    return names
