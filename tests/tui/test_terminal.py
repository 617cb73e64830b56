"""The real ``mlprov`` command in a real terminal (tmux): start-up, navigation, quitting.

Also what start-up imports: never MLflow (slow), whatever the screen.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from explorer.config import Settings

MLPROV = Path(sys.executable).parent / "mlprov"


class Tmux:
    """One detached tmux session of a fixed size running a command, on a tmux server of its own: a
    user's server (its config, its clients' sizes) does not change what the test sees."""

    def __init__(self, command: list[str], width: int = 100, height: int = 30) -> None:
        self.name = f"mlprov-test-{uuid.uuid4().hex[:8]}"
        self.tmux = ["tmux", "-L", self.name, "-f", "/dev/null"]
        # Textual takes COLUMNS/LINES over the terminal's size, and something in the test process puts
        # COLUMNS=80 LINES=24 in the C environment (not in os.environ): every "100x30" session ran at 80x24.
        env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
        subprocess.run(
            [*self.tmux, "new-session", "-d", "-s", self.name, "-x", str(width), "-y", str(height), "--", *command],
            check=True,
            env=env,
        )

    def screen(self) -> str:
        proc = subprocess.run([*self.tmux, "capture-pane", "-p", "-t", self.name], capture_output=True, text=True)
        return proc.stdout

    def wait_for(self, text: str, *more: str, timeout: float = 30) -> str:
        """The screen once it shows ``text`` and every one of ``more`` (rows may arrive a frame after
        the status line that announces them)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            shown = self.screen()
            if all(t in shown for t in (text, *more)):
                return shown
            time.sleep(0.2)
        raise AssertionError(f"{(text, *more)!r} never all appeared; the screen was:\n{self.screen()}")

    def wait_gone(self, text: str, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while text in self.screen():
            if time.monotonic() > deadline:
                raise AssertionError(f"{text!r} is still shown:\n{self.screen()}")
            time.sleep(0.2)

    def send(self, *keys: str) -> None:
        subprocess.run([*self.tmux, "send-keys", "-t", self.name, *keys], check=True)

    def alive(self) -> bool:
        return subprocess.run([*self.tmux, "has-session", "-t", self.name], capture_output=True).returncode == 0

    def kill(self) -> None:
        subprocess.run([*self.tmux, "kill-server"], capture_output=True)
        socket = Path(os.environ.get("TMUX_TMPDIR", "/tmp")) / f"tmux-{os.getuid()}" / self.name
        socket.unlink(missing_ok=True)


@pytest.fixture()
def tmux_factory() -> Iterator[type[Tmux]]:
    if shutil.which("tmux") is None:
        pytest.skip("tmux is not installed (scripts/ensure-system.sh installs it)")
    started: list[Tmux] = []

    class Tracked(Tmux):
        def __init__(self, command: list[str], width: int = 100, height: int = 30) -> None:
            super().__init__(command, width, height)
            started.append(self)

    yield Tracked
    for session in started:
        session.kill()


def test_mlprov_opens_the_explorer_in_a_terminal(tmux_factory: type[Tmux], workspace_settings: Settings) -> None:
    term = tmux_factory(
        [str(MLPROV), "-w", str(workspace_settings.workspace), "--db", workspace_settings.db_url], width=100, height=30
    )
    term.wait_for("model versions", "Models", "churn-model", "Version")
    term.send("Enter")
    term.wait_for("Upstream", "[model_version]", "Properties", "Gaps 0")
    term.send("u")
    term.wait_for("Downstream")
    term.send("Escape")
    term.wait_gone("Upstream")  # back on the models home
    term.send("?")
    shown = term.wait_for("remap any id")
    assert "open-trace" in shown, shown
    term.send("Escape")
    term.wait_gone("remap any id")
    term.send("q")
    deadline = time.monotonic() + 10
    while term.alive() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not term.alive(), "q did not quit"


def test_the_node_view_made_ahead_shows_whole_in_a_terminal(
    tmux_factory: type[Tmux], workspace_settings: Settings
) -> None:
    """The node view is composed, filled with the highlighted version and drawn off-screen while the
    home is idle; Enter brings it up: the terminal shows that version whole. Enter at once on another
    row shows that other version. In 80x24, the smallest terminal it is made for, nothing is cut without
    an ellipsis: the tab labels keep their counts, the footer shows whole keys, `? Keys` among them."""
    term = tmux_factory(
        [str(MLPROV), "-w", str(workspace_settings.workspace), "--db", workspace_settings.db_url], width=80, height=24
    )
    term.wait_for("model versions", "churn-model")
    time.sleep(1.5)  # idle: the node view is made ahead and shows the first row's version
    term.send("Enter")
    shown = term.wait_for("Upstream")  # made ahead: whole in the first capture that shows it
    first = shown.splitlines()[0]  # the breadcrumb
    assert "[model_version]" in first and "Props  Params 0  Metrics 0  Gaps 0" in shown, shown
    footer = shown.splitlines()[-1]
    assert "Back" in footer and "? Keys" in footer and footer.rstrip().endswith("^p Palette"), shown
    term.send("Escape")
    term.wait_gone("Upstream")
    term.send("Down", "Enter")  # at once, before that row is got ready off-screen
    deadline = time.monotonic() + 30
    while True:
        shown = term.screen()
        second = shown.splitlines()[0] if shown else ""
        if "Upstream" in shown and "[model_version]" in second and second != first:
            break
        assert time.monotonic() < deadline, f"the second version never showed; the screen was:\n{shown}"
        time.sleep(0.2)
    term.send("q")


def test_demo_opens_the_explorer(tmux_factory: type[Tmux], workspace_settings: Settings) -> None:
    # the workspace exists already: demo rescans it (incrementally) and opens the explorer on it
    term = tmux_factory([str(MLPROV), "--db", workspace_settings.db_url, "demo", "--dest",
                         str(workspace_settings.workspace)], width=100, height=30)
    term.wait_for("model versions", "churn-model", timeout=60)
    term.send("q")
    deadline = time.monotonic() + 10
    while term.alive() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not term.alive()


def test_demo_without_a_terminal_prints_the_summary(workspace_settings: Settings) -> None:
    proc = subprocess.run([str(MLPROV), "--db", workspace_settings.db_url, "demo", "--dest",
                           str(workspace_settings.workspace)], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "store" in proc.stdout and "churn-model" in proc.stdout


def test_startup_does_not_import_mlflow() -> None:
    code = (
        "import sys; import explorer.commands.explore, explorer.tui.app; "
        "print(sorted(m for m in ('mlflow', 'sigstore', 'cyclonedx', 'duckdb') if m in sys.modules))"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"
