"""The acquisition progress line: only on a terminal; bytes, percent, rate, ETA, bad sectors."""

from __future__ import annotations

import io

from evidencekit.cli.progress import Progress


class FakeTTY(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_nothing_when_not_a_terminal() -> None:
    out = io.StringIO()
    bar = Progress("imaging X", 100, stream=out)
    bar.update(50, 1)
    bar.finish()
    assert out.getvalue() == ""


def test_line_on_a_terminal() -> None:
    out = FakeTTY()
    bar = Progress("imaging X", 4 << 20, stream=out, interval=0)
    bar.update(1 << 20, 3)
    text = out.getvalue()
    assert text.startswith("\rimaging X: 1.0 MiB of 4.0 MiB ( 25.0 %)")
    assert "/s" in text and "ETA" in text and "3 bad sectors" in text
    bar.phase("verifying image", 4 << 20)
    bar.update(4 << 20)
    bar.finish()
    assert "verifying image: 4.0 MiB of 4.0 MiB (100.0 %)" in out.getvalue()
    assert out.getvalue().endswith("\n")
