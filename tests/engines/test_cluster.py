"""`--backend dask` on a real local cluster (127.0.0.1 only): datasets evaluated partition by
partition are identical to the bit to one machine's run, survive a killed worker, and bad
input or an unreachable scheduler is a clear error that leaves no output."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from conftest import agrad, write

pytest.importorskip("dask.dataframe")
distributed = pytest.importorskip("distributed")
pa = pytest.importorskip("pyarrow")
import pyarrow.parquet as pq  # noqa: E402

from autogradcli.engines.cluster import (  # noqa: E402
    local_cluster,
    tls_environment,
    tls_settings,
)

SEED = "samples/seed.txt"
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def cluster():
    """Two worker processes and a scheduler, every one listening on the loopback only, with
    TLS credentials of their own; this module's clients are given them through Dask's
    configuration, as a user of --scheduler with a TLS cluster would."""
    import dask

    with local_cluster(2) as c, dask.config.set(tls_settings(c.security)):
        yield c


def test_the_local_cluster_listens_on_the_loopback_only(cluster):
    import psutil

    assert cluster.scheduler_address.startswith("tls://127.0.0.1:")
    with distributed.Client(cluster) as client:
        pids = [os.getpid(), *client.run(os.getpid).values()]
    listening = [
        c.laddr
        for pid in pids
        for c in psutil.Process(pid).net_connections(kind="inet")
        if c.status == psutil.CONN_LISTEN
    ]
    assert len(listening) >= 5  # scheduler, its HTTP endpoint, two workers and their nannies
    assert {addr.ip for addr in listening} == {"127.0.0.1"}


def dataset(folder: Path, sizes: list[int], seed: int = 0, names: str = "abcd") -> np.ndarray:
    """Parquet files of random points, one per size; all their rows in file order."""
    rng = np.random.default_rng(seed)
    folder.mkdir()
    rows = []
    for k, n in enumerate(sizes):
        block = rng.normal(size=(n, len(names)))
        pq.write_table(pa.table({c: block[:, j] for j, c in enumerate(names)}),
                       folder / f"points-{k:03d}.parquet")  # fmt: skip
        rows.append(block)
    return np.vstack(rows)


def table_of(path: Path) -> tuple[list[str], np.ndarray]:
    """Column names and rows of a Parquet file or a folder of them, in file order."""
    files = sorted(path.glob("*.parquet")) if path.is_dir() else [path]
    tables = [pq.read_table(f) for f in files]
    names = tables[0].schema.names
    return names, np.vstack([np.column_stack([t[c].to_numpy() for c in names]) for t in tables])


def same_bits(x: np.ndarray, y: np.ndarray) -> bool:
    return x.shape == y.shape and np.array_equal(x.view(np.int64), y.view(np.int64))


def ok(result) -> None:
    assert result.exit_code == 0, result.stderr


def test_a_dataset_on_the_cluster_is_the_single_machine_run_to_the_bit(tmp_path, cluster):
    points = dataset(tmp_path / "in", [3000, 17, 2500, 0, 1200])  # small, empty, large files
    common = ["--sigma", "a=0.1", "c=0.2"]
    ok(agrad("eval", SEED, "--at-file", str(tmp_path / "in"), *common,
             "-o", str(tmp_path / "one.parquet")))  # fmt: skip
    names, one = table_of(tmp_path / "one.parquet")
    assert len(one) == len(points)
    address = ["--backend", "dask", "--scheduler", cluster.scheduler_address]
    ok(agrad("eval", SEED, "--at-file", str(tmp_path / "in"), *common, *address,
             "-o", str(tmp_path / "out")))  # fmt: skip
    parts = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert parts == [".agrad-dataset", *(f"part-{k:05d}.parquet" for k in range(5))]
    got_names, got = table_of(tmp_path / "out")
    assert got_names == names and same_bits(got, one)
    ok(agrad("eval", SEED, "--at-file", str(tmp_path / "in"), *common, *address,
             "-o", str(tmp_path / "single.parquet")))  # fmt: skip
    assert same_bits(table_of(tmp_path / "single.parquet")[1], one)
    csv = agrad("eval", SEED, "--at-file", str(tmp_path / "in"), *common, *address)
    ok(csv)
    local = agrad("eval", SEED, "--at-file", str(tmp_path / "in"), *common)
    assert csv.stdout == local.stdout


def test_partitions_are_fed_a_few_at_a_time_and_none_is_lost(tmp_path, cluster, monkeypatch):
    from autogradcli.engines import cluster as backend

    monkeypatch.setattr(backend, "AHEAD", 1)  # one in flight per worker: every refill is used
    dataset(tmp_path / "in", [40, 7, 0, 33, 12, 5, 21])
    ok(agrad("eval", SEED, "--at-file", str(tmp_path / "in"), "-o", str(tmp_path / "1.parquet")))
    ok(agrad("eval", SEED, "--at-file", str(tmp_path / "in"), "--backend", "dask",
             "--scheduler", cluster.scheduler_address, "-o", str(tmp_path / "out")))  # fmt: skip
    assert len(list((tmp_path / "out").glob("part-*"))) == 7
    assert same_bits(table_of(tmp_path / "out")[1], table_of(tmp_path / "1.parquet")[1])


def test_reduce_sum_and_mean_over_every_row(tmp_path, cluster):
    points = dataset(tmp_path / "in", [400, 300, 500])
    a, b, c, d = points.T
    f = (a + b) * b**2 + (c - d) * d**2
    for backend in (["--backend", "dask", "--scheduler", cluster.scheduler_address], []):
        for how, op in (("sum", np.sum), ("mean", np.mean)):
            got = agrad("eval", SEED, "--at-file", str(tmp_path / "in"), "--reduce", how,
                        "--format", "json", *backend)  # fmt: skip
            ok(got)
            doc = json.loads(got.stdout)
            assert doc["rows"] == 1200 and doc["reduce"] == how
            assert doc["outputs"]["f"]["value"] == pytest.approx(op(f), rel=1e-12)
            assert doc["outputs"]["f"]["gradient"]["a"] == pytest.approx(op(b**2), rel=1e-12)


def test_plan_map_partitions_is_value_and_grad_row_by_row(cluster):
    import dask.dataframe as dd
    import pandas as pd

    import autogradcli as ag

    plan = ag.Plan.of(ag.parse_file(str(ROOT / SEED)))
    rng = np.random.default_rng(2)
    frame = pd.DataFrame(rng.normal(size=(5000, 4)), columns=list("abcd"))
    with distributed.Client(cluster):
        got = plan.map_partitions(dd.from_pandas(frame, npartitions=4)).compute()
    values, grads = plan.value_and_grad(**{n: frame[n].to_numpy() for n in "abcd"})
    assert list(got.columns) == ["f", "df/da", "df/db", "df/dc", "df/dd"]
    assert same_bits(got["f"].to_numpy(), values["f"])
    assert same_bits(got["df/dc"].to_numpy(), grads["f"]["c"])
    with pytest.raises(ValueError, match="no column for d"):
        plan.map_partitions(dd.from_pandas(frame[["a", "b", "c"]], npartitions=2))


def test_a_killed_worker_does_not_lose_a_row(tmp_path, cluster):
    dataset(tmp_path / "in", [60_000] * 40, seed=5)
    ok(agrad("eval", SEED, "--at-file", str(tmp_path / "in"), "-o", str(tmp_path / "one.parquet")))
    _, one = table_of(tmp_path / "one.parquet")
    out = tmp_path / "out"
    run = subprocess.Popen(
        [sys.executable, "-m", "autogradcli", "eval", str(ROOT / SEED), "--at-file",
         str(tmp_path / "in"), "--backend", "dask", "--scheduler", cluster.scheduler_address,
         "-o", str(out)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, **tls_environment(cluster.security, tmp_path)},
    )  # fmt: skip
    deadline = time.monotonic() + 120
    while not any(tmp_path.glob(".out.*/part-*")) and time.monotonic() < deadline:
        time.sleep(0.005)
    with distributed.Client(cluster) as client:
        pids = client.run(os.getpid)
    alive = run.poll() is None
    os.kill(next(iter(pids.values())), signal.SIGKILL)
    _, err = run.communicate(timeout=300)
    assert run.returncode == 0, err
    assert alive, "the run ended before a worker could be killed"
    assert same_bits(table_of(out)[1], one)
    assert len(list(out.glob("part-*"))) == 40


def test_bad_partitions_name_the_file_row_and_column_and_leave_nothing(tmp_path, cluster):
    address = ["--backend", "dask", "--scheduler", cluster.scheduler_address]
    folder = tmp_path / "in"
    dataset(folder, [10, 10])
    pq.write_table(pa.table({"a": [1.0], "b": [2.0], "c": [3.0]}), folder / "points-002.parquet")
    got = agrad("eval", SEED, "--at-file", str(folder), *address, "-o", str(tmp_path / "out"))
    assert got.exit_code == 2
    assert "points-002.parquet: has no column 'd', unlike" in got.stderr
    assert not (tmp_path / "out").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["in"]  # no temporary folder left
    csv = tmp_path / "csv"
    csv.mkdir()
    write(csv, "a,b,c,d\n1,2,3,4\n", "p1.csv")
    write(csv, "a,b,c,d\n1,2,3,4\n5,6,x,8\n", "p2.csv")
    got = agrad("eval", SEED, "--at-file", str(csv), *address, "-o", str(tmp_path / "r.csv"))
    assert got.exit_code == 2
    assert "p2.csv:3: column 3 is not a number: 'x'" in got.stderr
    assert not (tmp_path / "r.csv").exists()


def test_targets_that_would_lose_data_are_refused(tmp_path, cluster):
    address = ["--backend", "dask", "--scheduler", cluster.scheduler_address]
    dataset(tmp_path / "in", [10])
    got = agrad(
        "eval", SEED, "--at-file", str(tmp_path / "in"), *address, "-o", str(tmp_path / "in")
    )
    assert got.exit_code == 2 and "it holds an input" in got.stderr
    (tmp_path / "mine").mkdir()
    write(tmp_path / "mine", "keep me", "notes.txt")
    got = agrad("eval", SEED, "--at-file", str(tmp_path / "in"), *address,
                "-o", str(tmp_path / "mine"))  # fmt: skip
    assert got.exit_code == 2 and "agrad did not make it (it holds notes.txt" in got.stderr
    assert (tmp_path / "mine" / "notes.txt").read_text() == "keep me"
    ok(agrad("eval", SEED, "--at-file", str(tmp_path / "in"), *address, "-o", str(tmp_path / "o")))
    ok(agrad("eval", SEED, "--at-file", str(tmp_path / "in"), *address, "-o", str(tmp_path / "o")))
    assert sorted(p.name for p in (tmp_path / "o").iterdir()) == [
        ".agrad-dataset", "part-00000.parquet"]


def test_a_folder_of_part_entries_agrad_did_not_make_is_never_touched(tmp_path, cluster):
    address = ["--backend", "dask", "--scheduler", cluster.scheduler_address]
    dataset(tmp_path / "in", [10, 5])
    out = tmp_path / "out"
    (out / "part-notes").mkdir(parents=True)
    (out / "part-notes" / "thesis.tex").write_text("years of work")
    got = agrad("eval", SEED, "--at-file", str(tmp_path / "in"), *address, "-o", f"{out}/")
    assert got.exit_code == 2, got.stderr
    assert f"cannot write a dataset to {out}: the folder exists and agrad did not make it" in (
        got.stderr)
    assert (out / "part-notes" / "thesis.tex").read_text() == "years of work"
    (out / "part-notes" / "thesis.tex").unlink()
    (out / "part-notes").rmdir()
    (out / "part-00000.parquet").write_text("mine, not agrad's")  # looks like agrad's, unmarked
    got = agrad("eval", SEED, "--at-file", str(tmp_path / "in"), *address, "-o", str(out))
    assert got.exit_code == 2 and "no .agrad-dataset file" in got.stderr
    assert (out / "part-00000.parquet").read_text() == "mine, not agrad's"
    (out / "part-00000.parquet").unlink()  # an empty folder: nothing to lose
    ok(agrad("eval", SEED, "--at-file", str(tmp_path / "in"), *address, "-o", str(out)))
    (out / "notes.txt").write_text("added later")  # a marked folder with a file of the user's
    got = agrad("eval", SEED, "--at-file", str(tmp_path / "in"), *address, "-o", str(out))
    assert got.exit_code == 2 and "holds notes.txt, which agrad did not write" in got.stderr
    assert (out / "notes.txt").read_text() == "added later"
    assert len(list(out.glob("part-*.parquet"))) == 2
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_a_client_without_the_clusters_credentials_is_refused(cluster):
    from distributed.security import Security

    address = cluster.scheduler_address
    plain = address.replace("tls://", "tcp://")
    stranger = Security.temporary()  # a certificate of its own, not signed by the cluster's CA
    attempts = [(plain, None), (address, stranger)]
    import dask

    with dask.config.set({"distributed.comm.require-encryption": False,
                          "distributed.comm.tls.ca-file": None,
                          "distributed.comm.tls.client.cert": None,
                          "distributed.comm.tls.client.key": None}):  # fmt: skip
        for where, security in attempts:
            with pytest.raises((OSError, TimeoutError)):
                distributed.Client(where, security=security, timeout="3s")
        with distributed.Client(address, security=cluster.security, timeout="10s") as client:
            assert client.submit(sum, [1, 2]).result() == 3  # the run's own credentials pass


def test_flags_that_cannot_be_honoured(tmp_path):
    dataset(tmp_path / "in", [10])
    cases = [
        (["--scheduler", "tcp://127.0.0.1:1"], "--scheduler cannot be used here"),
        (["--backend", "dask", "--chunk", "5"], "--chunk cannot be used here"),
        (["-o", f"{tmp_path / 'folder'}/"], "a folder of output files is written by --backend"),
    ]
    for args, message in cases:
        got = agrad("eval", SEED, "--at-file", str(tmp_path / "in"), *args)
        assert got.exit_code == 2 and message in got.stderr, got.stderr
    got = agrad("eval", SEED, "--at", "a=1", "b=2", "c=3", "d=4", "--backend", "dask")
    assert got.exit_code == 2 and "--backend cannot be used here" in got.stderr
    # on one machine a name without a suffix is one CSV file, as it always was
    ok(agrad("eval", SEED, "--at-file", str(tmp_path / "in"), "-o", str(tmp_path / "plain")))
    assert (tmp_path / "plain").read_text().startswith("a,b,c,d,f,")


def test_an_unreachable_scheduler_is_an_error_with_its_address(tmp_path):
    dataset(tmp_path / "in", [10])
    got = agrad("eval", SEED, "--at-file", str(tmp_path / "in"), "--backend", "dask",
                "--scheduler", "tcp://127.0.0.1:9", "-o", str(tmp_path / "out.csv"))  # fmt: skip
    assert got.exit_code == 2
    assert "cannot reach the Dask scheduler at tcp://127.0.0.1:9" in got.stderr
    assert not (tmp_path / "out.csv").exists()


def test_a_url_dataset_is_listed_and_read_through_fsspec(tmp_path, cluster):
    from autogradcli.engines.cluster import input_files
    from autogradcli.engines.partitions import PlanPartition

    assert PlanPartition.__call__

    dataset(tmp_path / "in", [30, 20])
    (tmp_path / "in" / ".hidden.parquet").write_bytes(b"not parquet")  # hidden files are skipped
    url = (tmp_path / "in").as_uri()
    assert input_files(url) == [f"{url}/points-000.parquet", f"{url}/points-001.parquet"]
    address = ["--backend", "dask", "--scheduler", cluster.scheduler_address]
    by_url = agrad("eval", SEED, "--at-file", url, *address)
    ok(by_url)
    assert by_url.stdout == agrad("eval", SEED, "--at-file", str(tmp_path / "in")).stdout


def test_output_folders_and_reduction_rows():
    from autogradcli.render.batch import Reducer, is_dataset

    assert is_dataset("results/") and is_dataset("results")
    assert not is_dataset("results.parquet") and not is_dataset("-") and not is_dataset(None)
    assert not is_dataset("/dev/stdout") and not is_dataset("/dev/full")
    rows: list = []
    r = Reducer("mean")
    r.write(["x", "y"], np.array([[1.0, 2.0], [3.0, 4.0]]))
    r.write(["x", "y"], np.array([[5.0, 6.0]]))
    from autogradcli.engines.batch import BatchResult

    r.finish(lambda columns, table: rows.append(table), BatchResult(3, columns=["x", "y"]))
    np.testing.assert_array_equal(rows[0], [[3.0, 4.0]])


def test_a_worker_address_is_not_a_scheduler(cluster):
    from autogradcli.engines.cluster import probe
    from autogradcli.errors import AgradError

    worker = next(iter(cluster.scheduler_info["workers"]))
    with pytest.raises(AgradError, match="it is a Dask Worker, not a scheduler"):
        probe(worker, 5.0)
    probe(cluster.scheduler_address, 5.0)

