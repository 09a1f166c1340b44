"""Writing outputs safely: check every target first, write beside it, rename at the end.

A failed or interrupted run never leaves a file that looks complete, never damages the
previous file of that name, and never overwrites one of the command's own inputs.
"""

from __future__ import annotations

import errno
import os
import stat
import sys
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import IO

from ..errors import AgradError

STDIO = "-"
# Suffixes that name one data format whatever the command: a --format that says otherwise
# contradicts the file's name (a JSON document in x.csv would be read as CSV by the next tool).
DATA_SUFFIXES = {
    ".csv": "csv",
    ".json": "json",
    ".parquet": "parquet",
    ".arrow": "arrow",
    ".feather": "arrow",
    ".ipc": "arrow",
}


def contradicted(fmt: str, path: str | None) -> str | None:
    """The data format `path`'s suffix names when it is not `fmt` (None when they agree, or
    the suffix names no data format)."""
    if not path or path == STDIO:
        return None
    named = DATA_SUFFIXES.get(Path(path).suffix.lower())
    return named if named not in (None, fmt) else None


def check_target(path: str, inputs: Iterable[str | None] = ()) -> None:
    """Refuse a target that is a folder, lies in a missing folder, or is one of the inputs."""
    if path == STDIO:
        return
    target = Path(path)
    if target.is_dir():
        raise AgradError(f"cannot write {path}: it is a folder", None, "name a file inside it")
    folder = target.parent
    if not folder.is_dir():
        raise AgradError(
            f"cannot write {path}: the folder {folder} does not exist", None, "create it first"
        )
    if not target.exists():
        return
    for item in inputs:
        if item in (None, STDIO) or not Path(item).exists():
            continue
        if os.path.samefile(item, target):
            raise AgradError(
                f"refusing to overwrite {path}: it is also an input ({item})",
                None,
                "write the output to another file",
            )


def _special(path: str) -> bool:
    """A device, FIFO or socket: written in place, as a rename cannot replace it."""
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return False
    return not stat.S_ISREG(mode)


def _mode() -> int:
    """Permissions a newly created file gets under the current umask."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


@contextmanager
def atomic_open(
    path: str, inputs: Iterable[str | None] = (), binary: bool = False, newline: str | None = None
) -> Iterator[IO]:
    """Open `path` for writing through a temporary file that is renamed when the block ends.

    Inputs are checked first; if the block raises, the temporary file is removed and any
    existing file at `path` is left untouched.
    """
    check_target(path, inputs)
    mode = "wb" if binary else "w"
    kwargs = {} if binary else {"encoding": "utf-8", "newline": newline}
    try:
        if _special(path):
            with open(path, mode, **kwargs) as fh:
                yield fh
            return
        target = Path(path)
    except BrokenPipeError:
        raise
    except OSError as exc:
        raise write_error(path, exc) from None
    tmp = ""  # set as soon as the file exists, so an interrupt at any point removes it
    try:
        try:
            fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
        except OSError as exc:
            raise write_error(path, exc) from None
        with os.fdopen(fd, mode, **kwargs) as fh:
            yield fh
        os.chmod(tmp, _mode())
        os.replace(tmp, path)
    except BrokenPipeError:
        _remove(tmp)
        raise
    except OSError as exc:
        _remove(tmp)
        raise write_error(path, exc) from None
    except BaseException:
        _remove(tmp)
        raise


def _remove(path: str) -> None:
    if path:
        with suppress(OSError):
            os.unlink(path)


def write_text(path: str, text: str, inputs: Iterable[str | None] = ()) -> None:
    """Write text to `path` atomically, or to stdout when `path` is '-'."""
    if path == STDIO:
        write_stdout(text)
        return
    with atomic_open(path, inputs) as fh:
        fh.write(text)


def write_bytes(path: str, data: bytes, inputs: Iterable[str | None] = ()) -> None:
    """Write bytes to `path` atomically, or to stdout when `path` is '-'."""
    if path == STDIO:
        write_stdout(data)
        return
    with atomic_open(path, inputs, binary=True) as fh:
        fh.write(data)


class Behind:
    """Writes bytes to a binary file from a second thread, in order, so the disk works while
    the caller makes the next block; a write error is raised by the next `put` or by `close`."""

    def __init__(self, fh: IO[bytes], depth: int = 8):
        import queue
        import threading

        self.fh, self.failed = fh, []
        self.todo: queue.Queue = queue.Queue(depth)
        self.thread = threading.Thread(target=self._drain, daemon=True)
        self.thread.start()

    def _drain(self) -> None:
        while (data := self.todo.get()) is not None:
            if not self.failed:
                try:
                    self.fh.write(data)
                except BaseException as exc:  # re-raised in the caller's thread
                    self.failed.append(exc)

    def put(self, data) -> None:
        """Queue a bytes-like block (raises an earlier block's write error)."""
        if self.failed:
            raise self.failed[0]
        self.todo.put(data)

    def stop(self) -> None:
        """Write what is queued and end the thread (errors are left for `close`). A Ctrl-C in
        the middle of `put` can lose the queue's wake-up call, so the thread is woken again
        while it is joined."""
        if not self.thread.is_alive():
            return
        self.todo.put(None)
        while self.thread.is_alive():
            self.thread.join(0.2)
            with self.todo.not_empty:
                self.todo.not_empty.notify()

    def close(self) -> None:
        """Write what is queued; raise the first write error, if any."""
        self.stop()
        if self.failed:
            raise self.failed[0]


def write_behind(fh: IO[bytes], runs: Iterable[str], depth: int = 8) -> None:
    """Encode text runs and write them to a binary file from a second thread, so the disk
    works while the next runs are formatted; a write error is raised here."""
    behind = Behind(fh, depth)
    try:
        for run in runs:
            behind.put(run.encode("utf-8"))
    finally:
        behind.stop()
    behind.close()


def write_stdout(text: str | bytes) -> None:
    """Write text (or bytes) to stdout, turning a full disk or a closed file into a clean
    error."""
    try:
        if isinstance(text, bytes):
            sys.stdout.flush()
            sys.stdout.buffer.write(text)
            sys.stdout.buffer.flush()
        else:
            sys.stdout.write(text)
            sys.stdout.flush()
    except BrokenPipeError:
        raise
    except OSError as exc:
        raise write_error("standard output", exc) from None


def write_error(path: str, exc: OSError) -> AgradError:
    """The error for an output that could not be written."""
    reason = exc.strerror or str(exc)
    hint = "free some space, or write somewhere else" if exc.errno == errno.ENOSPC else None
    return AgradError(f"cannot write {path}: {reason}", None, hint)
