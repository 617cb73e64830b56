"""Explorer benchmark: start-up to the first interactive screen, and per-keypress navigation, on a large store.

Run: ``.venv/bin/python -m benchmarks.bench_tui [--nodes 100000 --edges 300000] [--repeat 3]``.

The store is generated once (cached under ``benchmarks/out/``): model versions registered from logged
models, runs at commits using data versions, data produced by runs. Each start-up is measured in a
fresh interpreter (cold imports), from interpreter start to (a) the models home mounted and accepting
keys and (b) its rows shown. The lower bound is an empty Textual app's start-up in the same way.
Keypresses are timed with the pilot from the press to the screen idle with every worker done
(wall time, which includes the pilot's idle detection), and by the CPU time the process spent in
that interval (all threads: the UI and the workers' store queries), which leaves the waiting out.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

OUT = Path(__file__).parent / "out"


def generate(path: Path, nodes: int, edges: int) -> None:
    """A store of ``nodes`` nodes and ``edges`` edges shaped like real lineage."""
    from explorer.lineage import EdgeKind, Evidence, Facts, Node, NodeKind
    from explorer.store import LineageStore

    versions, commits = nodes // 100, nodes // 50
    runs = models = nodes // 5
    data = nodes - versions - commits - runs - models
    ev = Evidence("bench", "generated", "benchmark")
    with LineageStore.open(f"sqlite:///{path}") as store:
        facts = Facts()
        made = 0

        def flush() -> None:
            nonlocal facts
            store.write_batch("bench", facts)
            facts = Facts()

        for c in range(commits):
            facts.add_node(Node(f"commit:{c:040x}", NodeKind.COMMIT, f"{c:08x} commit {c}", {"sha": f"{c:040x}"}))
            if c:
                facts.link(f"commit:{c:040x}", f"commit:{c - 1:040x}", EdgeKind.PARENT, ev)
                made += 1
        for d in range(data):
            facts.add_node(Node(f"data:md5:{d:032x}", NodeKind.DATA, f"data/part-{d}.csv",
                                {"path": f"data/part-{d}.csv", "digest": f"{d:032x}"}))
        flush()
        per_run = max(1, (edges - made - models - versions - data) // runs - 1)
        for r in range(runs):
            run = f"run:{r:032x}"
            facts.add_node(Node(run, NodeKind.RUN, f"run-{r}", {
                "params": {"n_estimators": str(r % 500), "max_depth": str(r % 12)},
                "metrics": {"accuracy": (r % 100) / 100, "f1": (r % 97) / 97}}))
            facts.link(run, f"commit:{r % commits:040x}", EdgeKind.RAN_AT, ev)
            for k in range(per_run):
                facts.link(run, f"data:md5:{(r * 7 + k * 13) % data:032x}", EdgeKind.USED, ev)
            facts.add_node(Node(f"model:m-{r}", NodeKind.MODEL, f"model m-{r}", {}))
            facts.link(f"model:m-{r}", run, EdgeKind.GENERATED_BY, ev)
            if r % 5000 == 4999:
                flush()
        for d in range(data):
            facts.link(f"data:md5:{d:032x}", f"run:{d % runs:032x}", EdgeKind.GENERATED_BY, ev)
        for v in range(versions):
            mv = f"model_version:model-{v % 50}/{v // 50 + 1}"
            facts.add_node(Node(mv, NodeKind.MODEL_VERSION, f"model-{v % 50} {v // 50 + 1}", {
                "name": f"model-{v % 50}", "version": str(v // 50 + 1), "created": "2026-01-01T00:00:00Z"}))
            facts.link(mv, f"model:m-{v * (runs // versions)}", EdgeKind.VERSION_OF, ev)
        flush()


STARTUP_CHILD = """
import time, sys
t0 = time.perf_counter()
{body}
"""

EXPLORER_BODY = """
from explorer.store import LineageStore
from explorer.tui.app import ExplorerApp
from explorer.tui.screens.models import ModelsScreen
from explorer.tui.widgets.models_table import ModelsTable
store = LineageStore.open(sys.argv[1], create=False)
app = ExplorerApp(store, None)
marks = {}
async def main():
    async with app.run_test(size=(120, 40)) as pilot:
        marks["interactive"] = time.perf_counter() - t0  # mounted, first screen composed, keys accepted
        table = app.screen.query_one(ModelsTable)
        while table.row_count == 0:
            await asyncio.sleep(0.002)
        marks["first_rows"] = time.perf_counter() - t0
        await app.workers.wait_for_complete()
        await pilot.pause()
        marks["rows"] = time.perf_counter() - t0
        marks["row_count"] = table.row_count
import asyncio, json
asyncio.run(main())
print(json.dumps(marks))
"""

EMPTY_BODY = """
from textual.app import App
from textual.widgets import Footer, Label
class Empty(App):
    def compose(self):
        yield Label("empty")
        yield Footer()
marks = {}
async def main():
    async with Empty().run_test(size=(120, 40)) as pilot:
        marks["interactive"] = time.perf_counter() - t0
import asyncio, json
asyncio.run(main())
print(json.dumps(marks))
"""


def startup(body: str, url: str) -> dict[str, float]:
    """Run a start-up script in a fresh interpreter: marks from its first line, plus the whole process's wall time."""
    started = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", STARTUP_CHILD.format(body=body), url],
                          capture_output=True, text=True, check=True)
    total = time.perf_counter() - started
    marks = json.loads(proc.stdout.strip().splitlines()[-1])
    marks["process"] = total
    return marks


async def keypresses(url: str, rounds: int) -> tuple[dict[str, list[float]], dict[str, list[float]]]:
    """Time navigation keys on the big store: tree moves, expand, follow, back, direction toggle.

    Returns wall times and CPU times per key.
    """
    from explorer.store import LineageStore
    from explorer.tui.app import ExplorerApp
    from explorer.tui.widgets.lineage_tree import LineageTree
    from tests.tui.factory import settle

    times: dict[str, list[float]] = {}
    cpu: dict[str, list[float]] = {}
    with LineageStore.open(url, create=False) as store:
        app = ExplorerApp(store, None)
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(pilot)

            async def timed(name: str, *keys: str) -> None:
                start, start_cpu = time.perf_counter(), time.process_time()
                await pilot.press(*keys)
                await settle(pilot, rounds=2)
                times.setdefault(name, []).append(time.perf_counter() - start)
                cpu.setdefault(name, []).append(time.process_time() - start_cpu)

            for _ in range(rounds):
                await timed("models: down", "down")
            await timed("models: enter (open node view)", "enter")
            for _ in range(rounds):
                tree = app.screen.query_one(LineageTree)
                tree.move_cursor(tree.root)
                await settle(pilot, rounds=2)  # drawn before the timed key (it used to count in `down`)
                await timed("node: down (evidence)", "down")
                await timed("node: space (expand, query)", "space")
                await timed("node: enter (follow, query)", "enter")
                await timed("node: [ (back)", "left_square_bracket")
                await timed("node: ] (forward)", "right_square_bracket")
                await timed("node: [ (back again)", "left_square_bracket")
                await timed("node: u (toggle direction)", "u")
                await timed("node: u (toggle back)", "u")
            for _ in range(rounds):
                await timed("node: escape (close)", "escape")
                await timed("models: enter (open again)", "enter")
    return times, cpu


async def first_opens(url: str, times: int, rest: bool) -> list[tuple[float, float]]:
    """The first opening of the node view, each in a fresh app: Enter once the cursor rested on the row
    (``rest``, the node view was made ahead) or Enter pressed right after moving onto it (it was not).

    The keypress benchmark above has one sample of the second kind per run; this gives a median.
    """
    from explorer.store import LineageStore
    from explorer.tui.app import ExplorerApp
    from tests.tui.factory import settle

    out: list[tuple[float, float]] = []
    with LineageStore.open(url, create=False) as store:
        for _ in range(times):
            app = ExplorerApp(store, None)
            async with app.run_test(size=(120, 40)) as pilot:
                await settle(pilot)
                await asyncio.sleep(0.5)  # the node view is composed 0.2 s after the last rows arrive
                await settle(pilot)
                await pilot.press("down")
                if rest:
                    await asyncio.sleep(0.5)  # the hidden view shows a row the cursor rests on 0.3 s
                    await settle(pilot)
                start, start_cpu = time.perf_counter(), time.process_time()
                await pilot.press("enter")
                await settle(pilot, rounds=2)
                out.append((time.perf_counter() - start, time.process_time() - start_cpu))
    return out


async def first_frames(url: str, delays: tuple[float, ...], times: int) -> dict[float, list[float]]:
    """Key to the first frame that shows it: ``down`` on the models home, pressed ``delay`` s after the
    rows arrived, while the node view is being made ahead in the background (0.2 s after them).

    The keypress figures above wait for the app to be idle, so a key pressed in that window counts the
    background work too; this times what the user sees: the first screen update with the cursor moved.
    """
    from textual import events

    from explorer.store import LineageStore
    from explorer.tui.app import ExplorerApp
    from explorer.tui.widgets.models_table import ModelsTable
    from tests.tui.factory import settle

    out: dict[float, list[float]] = {}
    with LineageStore.open(url, create=False) as store:
        for delay in delays:
            for _ in range(times):
                app = ExplorerApp(store, None)
                async with app.run_test(size=(120, 40)) as pilot:
                    await settle(pilot)
                    table = app.screen.query_one(ModelsTable)
                    shown: list[tuple[float, int]] = []
                    display = app._display

                    def spy(
                        screen: object,
                        renderable: object,
                        display: object = display,
                        shown: list[tuple[float, int]] = shown,
                        table: ModelsTable = table,
                    ) -> object:
                        shown.append((time.perf_counter(), table.cursor_row))
                        return display(screen, renderable)  # type: ignore[operator]

                    app._display = spy  # type: ignore[method-assign]
                    await asyncio.sleep(delay)
                    start = time.perf_counter()
                    app.post_message(events.Key("down", None))
                    while not any(t > start and row == 1 for t, row in shown):
                        await asyncio.sleep(0.001)
                    first = min(t for t, row in shown if t > start and row == 1)
                    out.setdefault(delay, []).append(first - start)
    return out


async def empty_keypresses(rounds: int) -> list[tuple[float, float]]:
    """Lower bound: a keypress that moves a DataTable cursor in a near-empty app."""
    from textual.app import App, ComposeResult
    from textual.widgets import DataTable

    from tests.tui.factory import settle

    class Table(App[None]):
        def compose(self) -> ComposeResult:
            yield DataTable()

        def on_mount(self) -> None:
            table = self.query_one(DataTable)
            table.add_columns("a", "b")
            for i in range(50):
                table.add_row(str(i), str(i * i))
            table.focus()

    out: list[tuple[float, float]] = []
    async with Table().run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        for _ in range(rounds):
            start, start_cpu = time.perf_counter(), time.process_time()
            await pilot.press("down")
            await settle(pilot, rounds=2)
            out.append((time.perf_counter() - start, time.process_time() - start_cpu))
    return out


def report_startup(url: str, repeat: int) -> None:
    explorer = [startup(EXPLORER_BODY, url) for _ in range(repeat)]
    empty = [startup(EMPTY_BODY, url) for _ in range(repeat)]
    med = statistics.median
    print(f"\nstart-up (median of {repeat}, seconds after the script's first line; process = whole wall time)")
    print(f"  empty Textual app, interactive     {med(e['interactive'] for e in empty):.3f}  "
          f"(process {med(e['process'] for e in empty):.3f})")
    print(f"  explorer, models home interactive  {med(e['interactive'] for e in explorer):.3f}  "
          f"(process {med(e['process'] for e in explorer):.3f})")
    print(f"  explorer, first rows shown         {med(e['first_rows'] for e in explorer):.3f}")
    print(f"  explorer, all {explorer[0]['row_count']:.0f} version rows shown {med(e['rows'] for e in explorer):.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--nodes", type=int, default=100_000)
    parser.add_argument("--edges", type=int, default=300_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--keys-only", action="store_true", help="skip the start-up measurements")
    parser.add_argument("--first-opens", type=int, default=5, help="fresh apps timing the first opening")
    parser.add_argument("--first-frames", type=int, default=3, help="fresh apps per delay timing key to first frame")
    args = parser.parse_args()
    OUT.mkdir(exist_ok=True)
    db = OUT / f"tui-{args.nodes}-{args.edges}.db"
    if not db.exists():
        started = time.perf_counter()
        generate(db, args.nodes, args.edges)
        print(f"generated {db} in {time.perf_counter() - started:.1f} s")
    url = f"sqlite:///{db}"
    from explorer.store import LineageStore

    with LineageStore.open(url, create=False) as store:
        print(f"store: {sum(c.count for c in store.count_by_kind())} nodes, {store.count_edges()} edges")
    med = statistics.median
    if not args.keys_only:
        report_startup(url, args.repeat)
    times, cpu = asyncio.run(keypresses(url, args.rounds))
    bound = asyncio.run(empty_keypresses(args.rounds))
    walls, cpus = [w for w, _ in bound], [c for _, c in bound]
    print("\nkeypress to idle screen (ms: wall median / max; CPU median / max)")
    print(f"  {'lower bound: DataTable down in an empty app':<48} {med(walls) * 1000:6.1f} / {max(walls) * 1000:6.1f}"
          f"   {med(cpus) * 1000:6.1f} / {max(cpus) * 1000:6.1f}")
    if args.first_opens:
        for rest, name in ((True, "first opening, cursor at rest"), (False, "first opening, right after down")):
            opens = asyncio.run(first_opens(url, args.first_opens, rest))
            times[f"models: enter, {name}"] = [w for w, _ in opens]
            cpu[f"models: enter, {name}"] = [c for _, c in opens]
    if args.first_frames:
        frames = asyncio.run(first_frames(url, (0.0, 0.1, 0.2, 0.25, 0.3, 0.4, 0.6), args.first_frames))
        print("\nmodels home: down, key to its first frame, pressed N s after the rows arrived (ms: median / max)")
        for delay, values in frames.items():
            print(f"  {delay:.2f} s   {med(values) * 1000:6.1f} / {max(values) * 1000:6.1f}")
    for name, values in times.items():
        used = cpu[name]
        print(f"  {name:<48} {med(values) * 1000:6.1f} / {max(values) * 1000:6.1f}"
              f"   {med(used) * 1000:6.1f} / {max(used) * 1000:6.1f}")


if __name__ == "__main__":
    main()
