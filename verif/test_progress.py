"""Progress lines: shown on a terminal, silent in logs, pipes and CI."""

import time

from cimforge import progress


def test_silent_when_not_a_terminal(capsys):
    assert not progress.interactive()              # pytest captures stderr: not a terminal
    with progress.step("yosys"):
        pass
    assert list(progress.steps([1, 2], "entries")) == [1, 2]
    assert capsys.readouterr().err == ""


def test_shows_the_step_and_its_clock_when_enabled(capsys):
    with progress.step("nextpnr (seed 1)", enabled=True):
        time.sleep(1.2)                            # one refresh of the clock
    err = capsys.readouterr().err
    assert "nextpnr (seed 1): 00:01" in err


def test_ci_silences_it(monkeypatch):
    monkeypatch.setattr("sys.stderr.isatty", lambda: True, raising=False)
    monkeypatch.setenv("CI", "1")
    assert not progress.interactive()
    monkeypatch.delenv("CI")
    assert progress.interactive()
