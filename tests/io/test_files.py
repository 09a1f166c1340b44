"""Points files read whole or in blocks; outputs written through a temporary file."""

from __future__ import annotations

import numpy as np
import pytest

from autogradcli.errors import AgradError
from autogradcli.io.outfile import atomic_open, check_target, write_text
from autogradcli.io.points import count_rows, read_points


def test_csv_in_blocks_and_npz_whole(tmp_path):
    csv = tmp_path / "p.csv"
    csv.write_text("a,b\n1,2\n3,4\n5,6\n")
    names, blocks = read_points(str(csv), ["a", "b"], 2)
    assert names == ["a", "b"] and [b.shape for b in blocks] == [(2, 2), (1, 2)]
    assert count_rows(str(csv)) == 3
    np.savez(tmp_path / "p.npz", b=[2.0, 4.0], a=[1.0, 3.0])
    names, blocks = read_points(str(tmp_path / "p.npz"), ["a", "b"], 10)
    assert names == ["b", "a"] and next(iter(blocks)).tolist() == [[2.0, 1.0], [4.0, 3.0]]


def test_atomic_open_keeps_the_old_file_when_the_block_fails(tmp_path):
    target = tmp_path / "out.txt"
    write_text(str(target), "old\n")
    with pytest.raises(RuntimeError), atomic_open(str(target)) as fh:
        fh.write("half")
        raise RuntimeError("interrupted")
    assert target.read_text() == "old\n" and sorted(p.name for p in tmp_path.iterdir()) == [
        "out.txt"
    ]
    with pytest.raises(AgradError, match="also an input"):
        check_target(str(target), [str(target)])


def test_writing_behind_keeps_the_order_and_raises_a_write_error():
    import errno
    import io

    import pytest

    from autogradcli.io.outfile import write_behind

    sink = io.BytesIO()
    write_behind(sink, (f"run {k}\n" for k in range(100)), depth=2)
    assert sink.getvalue().decode() == "".join(f"run {k}\n" for k in range(100))

    class Full(io.BytesIO):
        def write(self, data):
            if self.tell() > 20:
                raise OSError(errno.ENOSPC, "No space left on device")
            return super().write(data)

    produced = []

    def runs():
        for k in range(1000):
            produced.append(k)
            yield f"run {k}\n"

    with pytest.raises(OSError, match="No space"):
        write_behind(Full(), runs(), depth=2)
    assert len(produced) < 1000  # the producer stops soon after the failure
