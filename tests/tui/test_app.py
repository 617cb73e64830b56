"""App-wide behaviour: keys and their ids, remapping, help, palette, theme, long tasks, failure reports."""

from __future__ import annotations

import json
import threading
from pathlib import Path

from textual.widgets import DataTable, Input, Label

from explorer.config import Settings
from explorer.lineage import EdgeKind
from explorer.store import LineageStore
from explorer.tui.app import ExplorerApp
from explorer.tui.screens.help import HelpScreen
from explorer.tui.screens.node import NodeScreen
from explorer.tui.screens.save import SavePathScreen
from explorer.tui.screens.trace import TraceScreen
from explorer.tui.tasks import TaskOutcome
from explorer.tui.widgets.models_table import ModelsTable
from explorer.tui.widgets.task_bar import TaskBar
from tests.tui.factory import SIZE, make_app, pilot_test, settle


def test_every_binding_has_an_id_and_a_tooltip(store: LineageStore, workspace_settings: Settings) -> None:
    app = ExplorerApp(store, workspace_settings)
    for where, bindings in app.binding_groups():
        for binding in bindings:
            assert binding.id, f"{where}: {binding.key} has no id"
            assert binding.tooltip, f"{where}: {binding.id} has no tooltip"


def test_every_binding_of_every_screen_and_widget_is_listed(store: LineageStore, workspace_settings: Settings) -> None:
    """`?` and the keymap read binding_groups(): a widget's binding left out of it could not be remapped
    (its id unknown to the keymap) nor found in the help."""
    import importlib
    import inspect
    import pkgutil

    import explorer.tui.screens
    import explorer.tui.widgets

    listed = {b.id for _, group in ExplorerApp(store, workspace_settings).binding_groups() for b in group}
    declared: dict[str, str] = {}
    for package in (explorer.tui.screens, explorer.tui.widgets):
        for info in pkgutil.iter_modules(package.__path__):
            module = importlib.import_module(f"{package.__name__}.{info.name}")
            for name, cls in inspect.getmembers(module, inspect.isclass):
                if cls.__module__ == module.__name__:
                    for binding in cls.__dict__.get("BINDINGS", []):
                        if getattr(binding, "id", None):
                            declared[binding.id] = f"{module.__name__}.{name}"
    assert len(declared) > 20
    assert {i: where for i, where in declared.items() if i not in listed} == {}


@pilot_test
async def test_help_lists_every_key(store: LineageStore, workspace_settings: Settings) -> None:
    app = make_app(store, workspace_settings)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        table = app.screen.query_one(DataTable)
        groups = app.binding_groups()
        assert table.row_count == sum(len(b) for _, b in groups) + len(groups)  # a heading per group
        ids = {str(table.get_row_at(i)[1]) for i in range(table.row_count)}
        assert {"open-trace", "node-direction", "models-filter", "scan", "bom", "verify"} <= ids
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)


@pilot_test
async def test_keys_remapped_from_mlprov_toml(store: LineageStore, workspace_settings: Settings) -> None:
    workspace_settings.config["keys"] = {"open-trace": "ctrl+r", "no-such-binding": "z"}
    app = make_app(store, workspace_settings)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert any("no binding with id 'no-such-binding'" in n.message for n in app._notifications)
        await pilot.press("t")
        assert not isinstance(app.screen, TraceScreen)
        await pilot.press("ctrl+r")
        assert isinstance(app.screen, TraceScreen)
        await pilot.press("escape", "question_mark")
        table = app.screen.query_one(DataTable)
        row = next(table.get_row_at(i) for i in range(table.row_count) if str(table.get_row_at(i)[1]) == "open-trace")
        assert str(row[0]) == "ctrl+r"


@pilot_test
async def test_palette_jumps_to_a_node(store: LineageStore, workspace_settings: Settings) -> None:
    stage = next(n for n in store.search("train", kinds=["stage"]))
    app = make_app(store, workspace_settings)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+p")
        await pilot.press(*stage.id[:40])  # an id prefix
        await pilot.pause(0.6)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, NodeScreen)
        assert app.screen.node_id.startswith(stage.id[:40])


@pilot_test
async def test_palette_puts_the_node_a_sha_prefix_names_first(workspace_settings: Settings, tmp_path: Path) -> None:
    """A sha prefix names that commit: the stages locked at it (their ids hold the sha) and a merge
    commit whose message mentions it (here one whose id sorts first) rank below it."""
    import shutil

    from explorer.lineage import Facts, Node, NodeKind

    db = tmp_path / "copy.db"
    shutil.copy(workspace_settings.db_url.removeprefix("sqlite:///"), db)
    store = LineageStore.open(f"sqlite:///{db}")
    stage = next(n for n in store.search("train", kinds=["stage"]))
    sha = stage.id.rpartition("@")[2]
    facts = Facts()
    merge = Node(f"commit:{'0' * 40}", NodeKind.COMMIT, f"Merge {sha[:12]} into main", {"message": f"Merge {sha}"})
    facts.add_node(merge)
    store.write_batch("test:merge", facts)
    app = make_app(store, workspace_settings)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+p", *sha[:8])
        await pilot.pause(0.6)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, NodeScreen)
        assert app.screen.node_id == f"commit:{sha}"


@pilot_test
async def test_palette_runs_an_action(store: LineageStore, workspace_settings: Settings) -> None:
    app = make_app(store, workspace_settings)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+p", *"trace a pred")
        await pilot.pause(0.6)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, TraceScreen)


@pilot_test
async def test_theme_toggle(store: LineageStore, workspace_settings: Settings) -> None:
    app = make_app(store, workspace_settings)
    async with app.run_test(size=SIZE) as pilot:
        assert app.theme == "mlprov-dark"
        await pilot.press("T")
        assert app.theme == "mlprov-light"


@pilot_test
async def test_scan_from_the_explorer_refreshes(
    scanned_workspace: Path, workspace_settings: Settings, tmp_path: Path
) -> None:
    # an empty store: the scan fills it and the models home shows what it found
    settings = Settings(workspace_settings.workspace, f"sqlite:///{tmp_path / 'fresh.db'}", workspace_settings.config)
    with LineageStore.open(settings.db_url) as fresh:
        app = make_app(fresh, settings)
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            table = app.screen.query_one(ModelsTable)
            assert table.row_count == 0
            await pilot.press("s")
            await settle(pilot, rounds=8)
            assert app.task_state is None
            assert table.row_count >= 8
            from explorer.tui.data.capabilities import configured_sources

            sources = len(configured_sources(settings))
            assert sources >= 3
            # the linking passes that follow the sources are not counted as sources
            assert any(n.message.startswith(f"scan: {sources} sources, ") for n in app._notifications)


@pilot_test
async def test_generate_and_save_a_bom(store: LineageStore, workspace_settings: Settings, tmp_path: Path) -> None:
    version = "model_version:churn-model/4"
    app = make_app(store, workspace_settings)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.open_node(version)
        await settle(pilot)
        await pilot.press("b")
        assert isinstance(app.screen, SavePathScreen)
        path_input = app.screen.query_one(Input)
        assert path_input.value.endswith("boms/churn-model-4.cdx.json")
        path_input.value = str(tmp_path / "out" / "v4.cdx.json")
        await pilot.press("enter")
        await settle(pilot, rounds=8)
        doc = json.loads((tmp_path / "out" / "v4.cdx.json").read_text())
        assert doc["bomFormat"] == "CycloneDX" and doc["serialNumber"].startswith("urn:uuid:")
        assert any("ML-BOM saved to" in n.message for n in app._notifications)
        assert store.edges_to([version], [EdgeKind.DESCRIBES])  # recorded: the models home shows it
        await pilot.press("escape")
        await settle(pilot)
        row = next(r for r in app.screen.query_one(ModelsTable).shown if r.id == version)
        assert row.bom


@pilot_test
async def test_verify_says_why_it_cannot(store: LineageStore, workspace_settings: Settings) -> None:
    app = make_app(store, workspace_settings)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.verify_signatures("model_version:churn-model/v1.0.0")
        await settle(pilot, rounds=6)
        errors = [n.message for n in app._notifications if n.severity == "error"]
        assert len(errors) == 1
        assert "no signature" in errors[0] or "not on this machine" in errors[0] or "signer policy" in errors[0]


@pilot_test
async def test_a_long_task_title_ends_in_an_ellipsis_at_80_columns(
    store: LineageStore, workspace_settings: Settings
) -> None:
    from tests.tui.factory import screen_text

    release = threading.Event()
    title = "scan 673 commits of example-get-started-experiments and its experiment refs"
    app = make_app(store, workspace_settings)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        app._run_task(title, lambda: (release.wait(5), TaskOutcome("done"))[1])
        await pilot.pause(0.2)
        [line] = [row for row in screen_text(app).splitlines() if "x cancel" in row]
        assert line.lstrip().startswith("scan 673 commits of") and "…" in line, line
        release.set()
        await settle(pilot)


@pilot_test
async def test_cancel_a_running_task(store: LineageStore, workspace_settings: Settings) -> None:
    release = threading.Event()

    def slow() -> TaskOutcome:
        release.wait(5)
        return TaskOutcome("finished")

    app = make_app(store, workspace_settings)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app._run_task("slow job", slow)
        await pilot.pause()
        assert app.task_state is not None and app.screen.query_one(TaskBar).has_class("-active")
        await pilot.press("x")
        assert app.task_state is None
        release.set()
        await settle(pilot)
        assert not any(n.message == "finished" for n in app._notifications)  # a cancelled result is dropped
        # the task's own name: a cancelled verify used to say what a scan keeps
        assert [n.message for n in app._notifications] == ["slow job cancelled"]


@pilot_test
async def test_a_failing_worker_is_reported_once(store: LineageStore, workspace_settings: Settings) -> None:
    def broken() -> TaskOutcome:
        raise RuntimeError("disk on fire")

    app = make_app(store, workspace_settings)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app._run_task("broken", broken)
        await settle(pilot)
        failures = [n for n in app._notifications if "disk on fire" in n.message]
        assert len(failures) == 1 and failures[0].severity == "error"
        assert failures[0].message == "broken: disk on fire"  # the task's name, not "_task_worker"
        assert app.task_state is None


async def _palette_hits(app: ExplorerApp, pilot, query: str) -> list[str]:  # type: ignore[no-untyped-def]
    from textual.command import CommandList

    await pilot.press("ctrl+p", *query)
    await pilot.pause(0.6)
    options = app.screen.query_one(CommandList)
    return [str(options.get_option_at_index(i).prompt) for i in range(options.option_count)]


@pilot_test
async def test_palette_runs_the_actions_of_the_version_and_the_keys_under_it(
    store: LineageStore, workspace_settings: Settings
) -> None:
    """While the palette is open the current screen is the palette itself: the version actions asked it
    for the version in view and never appeared. Every key of the screen under it is a command too."""
    app = make_app(store, workspace_settings)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("down")  # churn-model 2: there is a version before it
        row = app.screen.query_one(ModelsTable).current
        assert row is not None and row.id == "model_version:churn-model/2"
        short = row.id.removeprefix("model_version:")
        hits = await _palette_hits(app, pilot, "verify")
        assert any(f"Verify signatures of {short}" in h for h in hits), hits
        await pilot.press("escape")
        hits = await _palette_hits(app, pilot, "sort")
        assert any("Sort" in h for h in hits), hits  # the home's sort key, by its tooltip
        await pilot.press("escape")
        hits = await _palette_hits(app, pilot, "theme")
        assert hits and all("Change the current theme" not in h for h in hits)  # Textual's picker is gone
        await pilot.press("escape")
        hits = await _palette_hits(app, pilot, "page up")
        assert not any("page up" in h.lower() for h in hits), hits  # the table's own cursor keys are not commands
        await pilot.press("escape")
        await pilot.press("ctrl+p", *f"diff {short} against")
        await pilot.pause(0.6)
        await pilot.press("enter")
        await settle(pilot)
        from explorer.tui.screens.diff import DiffScreen

        assert isinstance(app.screen, DiffScreen)
        assert short in str(app.screen.query_one("#diff-b", Input).value)


@pilot_test
async def test_palette_finds_a_node_by_its_words_or_letters(store: LineageStore, workspace_settings: Settings) -> None:
    """`trainv2` found nothing and `train v2` only a commit: candidates were substrings of the whole query
    or of its longest word (40 of them, in id order), ranked by a matcher that wants the space itself."""
    run = next(n for n in store.search("train-v2.0.0", kinds=["run"]))
    app = make_app(store, workspace_settings)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        for query in ("trainv2", "train v2"):
            hits = await _palette_hits(app, pilot, query)
            assert hits and hits[0].startswith(run.label), (query, hits[:3])
            await pilot.press("escape")
            await settle(pilot)


@pilot_test
async def test_the_save_dialog_refuses_an_empty_path_or_a_directory(
    store: LineageStore, workspace_settings: Settings, tmp_path: Path
) -> None:
    """An empty path closed the dialog and saved nothing, silently; a directory failed after it closed,
    naming the writer's temporary file."""
    chosen: list[Path | None] = []
    app = make_app(store, workspace_settings)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.push_screen(SavePathScreen("Save to", tmp_path / "x.cdx.json"), chosen.append)
        await settle(pilot)
        field = app.screen.query_one("#save-path", Input)
        for value, said in (("", "Type the file to save to"), (str(tmp_path), f"{tmp_path} is a directory")):
            field.value = value
            await pilot.press("enter")
            await settle(pilot)
            assert isinstance(app.screen, SavePathScreen) and not chosen
            assert said in str(app.screen.query_one(".dialog-hint", Label).render())
        field.value = str(tmp_path / "bom.json")
        await pilot.press("enter")
        await settle(pilot)
        assert chosen == [tmp_path / "bom.json"]


@pilot_test
async def test_notices_are_plain_text(store: LineageStore, tmp_path: Path) -> None:
    """A notice is a path, an id or a reason, never markup: "list sources under [scan] in mlprov.toml"
    showed as "under  in" (Rich took [scan] for a style)."""
    from explorer.config import settings_for

    app = make_app(store, settings_for(tmp_path))  # a workspace without mlprov.toml
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("s")
        await settle(pilot)
        [notice] = [n for n in app._notifications if "nothing to scan" in n.message]
        assert notice.message.endswith("under [scan] in mlprov.toml") and notice.markup is False
