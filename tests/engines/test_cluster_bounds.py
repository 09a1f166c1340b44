"""Bounds of `--backend dask`: a --scheduler that is not Dask (silent, or answering other
bytes) is a clear error within the handshake's deadline, and --workers is capped by the
machine."""

from __future__ import annotations

import pytest
from conftest import agrad

pytest.importorskip("dask.dataframe")
pytest.importorskip("distributed")
pa = pytest.importorskip("pyarrow")
import pyarrow.parquet as pq  # noqa: E402

SEED = "samples/seed.txt"


def dataset(folder, rows: int) -> None:
    """One Parquet file of `rows` points of the seed's inputs."""
    folder.mkdir()
    pq.write_table(pa.table({c: [float(k) for k in range(rows)] for c in "abcd"}),
                   folder / "p.parquet")  # fmt: skip


def _server(answer: bytes | None):
    """A socket server on 127.0.0.1 that accepts and then stays silent (None) or sends
    `answer` and waits; its address, and a function that stops it."""
    import socket
    import threading

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    stop = threading.Event()
    held = []

    def serve() -> None:
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                continue
            held.append(conn)
            if answer is not None:
                conn.sendall(answer)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()

    def close() -> None:
        stop.set()
        thread.join()
        for conn in held:
            conn.close()
        listener.close()

    return f"tcp://127.0.0.1:{listener.getsockname()[1]}", close


@pytest.mark.parametrize(
    ("answer", "why"),
    [(None, "no Dask handshake within"),
     (b"\xff" * 64, "does not speak Dask's protocol"),
     (b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n" * 4, "does not speak Dask's protocol")],
)  # fmt: skip
def test_a_scheduler_address_that_is_not_dask_is_a_clear_error(tmp_path, monkeypatch, answer,
                                                               why):
    from autogradcli.engines import cluster as backend

    monkeypatch.setattr(backend, "HANDSHAKE_SECONDS", 1.0)
    dataset(tmp_path / "in", 10)
    address, close = _server(answer)
    try:
        got = agrad("eval", SEED, "--at-file", str(tmp_path / "in"), "--backend", "dask",
                    "--scheduler", address, "-o", str(tmp_path / "out.csv"))  # fmt: skip
    finally:
        close()
    assert got.exit_code == 2, got.stderr
    assert f"cannot reach the Dask scheduler at {address}: " in got.stderr
    assert why in got.stderr
    assert "Traceback" not in got.stderr and "allocate" not in got.stderr
    assert not (tmp_path / "out.csv").exists()


def test_more_workers_than_cores_is_refused_before_any_start(tmp_path, monkeypatch):
    from autogradcli.engines import cluster as backend

    monkeypatch.setattr(backend, "usable_cores", lambda: 3)
    monkeypatch.setattr(backend, "local_cluster", lambda *a: pytest.fail("a cluster started"))
    dataset(tmp_path / "in", 10)
    got = agrad("eval", SEED, "--at-file", str(tmp_path / "in"), "--backend", "dask",
                "--workers", "1000")  # fmt: skip
    assert got.exit_code == 2
    assert "--workers 1000: this machine has 3 cores" in got.stderr
    assert "use --workers 3 or fewer" in got.stderr


def test_workers_with_a_scheduler_is_refused(tmp_path):
    dataset(tmp_path / "in", 10)
    got = agrad("eval", SEED, "--at-file", str(tmp_path / "in"), "--backend", "dask",
                "--scheduler", "tcp://127.0.0.1:9", "--workers", "1")  # fmt: skip
    assert got.exit_code == 2
    assert "--workers sizes the local cluster" in got.stderr


def test_a_url_partition_with_a_column_named_twice_is_refused(tmp_path):
    from autogradcli.engines.cluster import read_file
    from autogradcli.errors import AgradError

    table = pa.table([pa.array([1.0]), pa.array([2.0]), pa.array([9.0])], names=["a", "b", "a"])
    pq.write_table(table, tmp_path / "dup.parquet")
    with pytest.raises(AgradError, match="column 'a' appears twice"):
        read_file((tmp_path / "dup.parquet").as_uri())
