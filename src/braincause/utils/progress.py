"""Progress of long work on the terminal: tqdm bars on a TTY, plain log lines otherwise.

Every long step of braincause reports through a plain callback ``progress(message)``.
:class:`ProgressReporter` is the callback the CLI passes. A message that counts —
``"<what> <done>/<total>[ <detail>]"``, e.g. ``"features 256/3000"``, ``"baseline 3/19:
door"``, ``"[12/200] synth-01 faces r0: discovery"`` — drives a progress bar for *what*
(with the count, the rate and tqdm's ETA; redrawn at every message, which come at most a
few per second) when the stream is a terminal; any other message
is a status line. When the stream is not a terminal (a pipe, a CI log) every message is one
plain line, prefixed with the seconds since the start, and nothing is redrawn. ``quiet``
prints nothing.
"""

from __future__ import annotations

import re
import sys
import time
from typing import IO, Any

__all__ = ["ProgressReporter", "parse_count"]

_COUNT = re.compile(r"^(?P<label>.*?)\s*\[?(?P<done>\d+)\s*/\s*(?P<total>\d+)\]?(?P<rest>.*)$",
                    re.S)


def parse_count(message: str) -> tuple[str, int, int, str] | None:
    """``(what, done, total, detail)`` of a counting message, else None.

    Parameters
    ----------
    message : str

    Returns
    -------
    tuple or None
    """
    m = _COUNT.match(message)
    if m is None or int(m["total"]) <= 0 or int(m["done"]) > int(m["total"]):
        return None
    label = m["label"].strip(" :[") or "tasks"
    return label, int(m["done"]), int(m["total"]), m["rest"].strip(" :]")


class ProgressReporter:
    """The CLI's progress callback (module docstring).

    Parameters
    ----------
    quiet : bool
        Print nothing.
    stream : file, optional
        Where to write (default ``sys.stderr``).
    tty : bool, optional
        Draw bars; default: whether ``stream`` is a terminal.
    """

    def __init__(self, quiet: bool = False, stream: IO[str] | None = None,
                 tty: bool | None = None) -> None:
        self.quiet = quiet
        self.stream = stream if stream is not None else sys.stderr
        self.tty = bool(self.stream.isatty()) if tty is None else tty
        self.t0 = time.monotonic()
        self._bar: Any = None
        self._label: str | None = None

    def __call__(self, message: str) -> None:
        """Report one message.

        Parameters
        ----------
        message : str
        """
        if self.quiet:
            return
        if not self.tty:
            print(f"[{time.monotonic() - self.t0:7.1f}s] {message}", file=self.stream,
                  flush=True)
            return
        count = parse_count(message)
        if count is None:
            self.close()
            from tqdm import tqdm

            tqdm.write(f"[{time.monotonic() - self.t0:7.1f}s] {message}", file=self.stream)
            return
        label, done, total, detail = count
        bar = self._bar
        if bar is None or label != self._label or total != bar.total or done < bar.n:
            self.close()
            from tqdm import tqdm

            size = self._size()
            bar = self._bar = tqdm(total=total, initial=done, desc=label, file=self.stream,
                                   leave=True,
                                   dynamic_ncols=size is None,
                                   ncols=size[0] if size else None,
                                   nrows=size[1] if size else None,
                                   mininterval=0, smoothing=0.3)
            self._label = label
        if detail:
            bar.set_postfix_str(detail, refresh=False)
        bar.update(done - bar.n)
        if done >= total:
            self.close()

    def _size(self) -> tuple[int, int] | None:
        """None when the terminal reports its size (tqdm follows it), else ($COLUMNS or
        100, $LINES or 24): a terminal of unknown size (a fresh pseudo-terminal, ``script``
        without a terminal above it) reports 0 × 0, where tqdm would draw nothing."""
        import os

        try:
            got = os.get_terminal_size(self.stream.fileno())
            if got.columns > 0 and got.lines > 0:
                return None
        except (OSError, ValueError, AttributeError):
            pass

        def env(name: str, default: int) -> int:
            v = os.environ.get(name, "")
            return int(v) if v.isdigit() and int(v) > 0 else default

        return env("COLUMNS", 100), env("LINES", 24)

    def close(self) -> None:
        """Finish the open bar (if any)."""
        if self._bar is not None:
            self._bar.close()
            self._bar = None
            self._label = None

    def done(self) -> None:
        """Finish the open bar (an alias of :meth:`close`, for ``finally`` blocks)."""
        self.close()
