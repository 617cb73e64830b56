"""The models home over the sample workspace: every version, sorting, filtering, opening a version."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Input, Label

from explorer.config import Settings
from explorer.lineage import NodeKind
from explorer.store import LineageStore
from explorer.tui.screens.models import ModelsScreen
from explorer.tui.screens.node import NodeScreen
from explorer.tui.widgets.footer import FooterPad
from explorer.tui.widgets.models_table import ModelsTable
from tests.tui.factory import SIZE, make_app, pilot_test, screen_text, settle


@pilot_test
async def test_every_registered_version_is_a_row(store: LineageStore, workspace_settings: Settings) -> None:
    expected = sorted(n.id for n in store.nodes(NodeKind.MODEL_VERSION))
    app = make_app(store, workspace_settings)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        table = app.screen.query_one(ModelsTable)
        assert sorted(r.id for r in table.shown) == expected
        assert table.row_count == len(expected) >= 8
        status = str(app.screen.query_one("#models-status", Label).render())
        assert f"{len(expected)} model versions" in status
        mlflow = next(r for r in table.shown if r.id == "model_version:churn-model/4")
        assert "champion" in mlflow.labels
        assert dict(mlflow.metrics).keys() == {"accuracy", "f1"}  # headline metrics from the run
        assert any(d.startswith("customers-") for d in mlflow.data)
        gto = next(r for r in table.shown if r.id == "model_version:churn-model/v2.0.0")
        assert gto.labels == ("prod",) and gto.data == ("data/prepared@663c6219",)
        assert any(where.startswith("prod/") for r in table.shown for where in r.deployed)  # served now


@pilot_test
async def test_sort_and_reverse_by_column(store: LineageStore, workspace_settings: Settings) -> None:
    app = make_app(store, workspace_settings)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        table = app.screen.query_one(ModelsTable)
        versions = [r.version for r in table.shown]
        order = [versions.index(v) for v in ("1", "2", "4", "v1.0.0", "v1.2.0", "v2.0.0")]
        assert order == sorted(order)  # natural order: 2 before 10, MLflow numbers before GTO tags
        await pilot.press("o")  # the next column after Version
        assert table.sort_column == "labels"
        assert table.shown[0].labels == ()  # unlabelled versions first, ascending
        await pilot.press("O")
        assert table.sort_reverse and table.shown[0].labels != ()
        await pilot.press(*"o" * 9)  # round the ten columns back to Version
        await pilot.press("O")
        assert table.sort_column == "version" and table.sort_reverse
        assert [r.version for r in table.shown] == list(reversed(versions))
        assert "▼" in str(table.columns["version"].label)  # type: ignore[index]


@pilot_test
async def test_filter_as_you_type(store: LineageStore, workspace_settings: Settings) -> None:
    app = make_app(store, workspace_settings)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        table = app.screen.query_one(ModelsTable)
        await pilot.press("slash")
        assert isinstance(app.focused, Input)
        await pilot.press(*"champ")
        assert [r.version for r in table.shown] == ["4"]
        assert "1 match" in str(app.screen.query_one("#models-status", Label).render())
        await pilot.press("backspace", "backspace", "backspace", "backspace", "backspace", *"v1.2")
        assert [r.version for r in table.shown] == ["v1.2.0"]
        await pilot.press("enter", "escape")  # back to the table, filter cleared
        assert table.row_count == len(table._rows) and app.focused is table


@pilot_test
async def test_enter_opens_the_version(store: LineageStore, workspace_settings: Settings) -> None:
    app = make_app(store, workspace_settings)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, ModelsScreen)
        first = app.screen.query_one(ModelsTable).shown[0].id
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, NodeScreen) and app.screen.node_id == first
        await pilot.press("escape")
        assert isinstance(app.screen, ModelsScreen)


@pilot_test
async def test_empty_store_says_what_to_do(tmp_path, workspace_settings: Settings) -> None:  # type: ignore[no-untyped-def]
    with LineageStore.open(f"sqlite:///{tmp_path / 'empty.db'}") as empty:
        app = make_app(empty, workspace_settings)
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            assert app.screen.query_one(ModelsTable).row_count == 0
            assert "s scans the sources" in str(app.screen.query_one("#models-status", Label).render())


@pilot_test
async def test_keys_hidden_while_filtering_leave_a_blank_footer(
    store: LineageStore, workspace_settings: Settings
) -> None:
    """The pad standing in for hidden keys is blank: a bare widget renders its class name, and the footer
    read "/ Filter FooterPad" while typing in the filter (seen at 80x24 on real stores)."""
    app = make_app(store, workspace_settings)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("slash", *"prod")
        await settle(pilot)
        pad = app.screen.query_one(FooterPad)
        assert pad.size.width > 0  # the version keys are hidden while the filter has focus
        footer = screen_text(app).splitlines()[-1]
        assert "FooterPad" not in footer and "Filter" in footer


@pilot_test
async def test_long_names_and_data_keep_what_tells_rows_apart(
    store: LineageStore, workspace_settings: Settings
) -> None:
    """GTO's ``dir:name`` artifacts and long data paths are cut in the middle: rows showed
    "pipelines/model…" twice and every data version as the same cut path, its @digest gone. A wide
    terminal's spare cells go to the name and data columns."""
    from explorer.tui.data.models import ModelRow

    rows = [
        ModelRow(f"model_version:pipelines/model-registry:model_{n}/v1.0.0", f"pipelines/model-registry:model_{n}",
                 "v1.0.0", data=(f"data/MAGNETIC_TILE_SURFACE_DEFECTS/train_masks@{digest}",))
        for n, digest in (("LR", "fde9372f"), ("RF", "10628806"))
    ]
    for width in (80, 200):
        app = make_app(store, workspace_settings)
        async with app.run_test(size=(width, 24)) as pilot:
            await settle(pilot)
            table = app.screen.query_one(ModelsTable)
            table.show(rows)
            await settle(pilot)
            cells = [[str(c) for c in table.get_row_at(i)] for i in range(2)]
            names, data = [c[0] for c in cells], [c[-1] for c in cells]
            assert names[0].endswith("model_LR") and names[1].endswith("model_RF")
            assert data[0].endswith("@fde9372f") and data[1].endswith("@10628806")
            if width == 200:
                assert names[0] == rows[0].name and table.max_scroll_x == 0
            else:
                assert "…" in names[0] and "…" in data[0]


def test_counts_read_as_english() -> None:
    from explorer.tui.data.text import plural

    assert plural(1, "model version") == "1 model version"
    assert (plural(0, "gap"), plural(1000, "fact")) == ("0 gaps", "1,000 facts")


@pilot_test
async def test_a_row_cut_to_fit_is_shown_whole_and_keys_without_a_row_say_so(
    store: LineageStore, workspace_settings: Settings
) -> None:
    """At 80 columns the champion's deployments and data versions end in "…" and the table had no way to
    show them whole; the sort column scrolled off screen left no sign of the sort; keys pressed with no
    row (a filter matching none) did nothing."""
    from explorer.tui.screens.value import ValueScreen

    app = make_app(store, workspace_settings)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        table = app.screen.query_one(ModelsTable)
        table.move_cursor(row=[r.id for r in table.shown].index("model_version:churn-model/4"))
        row = table.current
        assert row is not None and row.deployed and row.data
        await pilot.press("e")
        await settle(pilot)
        assert isinstance(app.screen, ValueScreen)
        text = str(app.screen.value)
        assert f"Deployed now: {', '.join(row.deployed)}" in text and f"Data version: {', '.join(row.data)}" in text
        await pilot.press("escape")
        await pilot.press(*"oooooo")  # to Gaps, past the right edge at 80 columns
        await settle(pilot)
        assert "sorted by Gaps ▲" in str(app.screen.query_one("#models-status", Label).render())
        await pilot.press("slash", *"zzzz", "enter")
        await settle(pilot)
        assert table.current is None
        await pilot.press("v")
        await settle(pilot)
        assert [n.message for n in app._notifications] == ["No model version is highlighted: the filter matches none."]


def test_the_gap_count_covers_the_way_to_the_run(workspace_settings: Settings, tmp_path: Path) -> None:
    """A version whose run has no commit tag showed "Gaps 0": only the version's own gaps were counted."""
    import shutil

    from explorer.lineage import EdgeKind, Facts, Gap
    from explorer.tui.data.models import model_rows

    db = tmp_path / "copy.db"
    shutil.copy(workspace_settings.db_url.removeprefix("sqlite:///"), db)
    with LineageStore.open(f"sqlite:///{db}") as store:
        version = store.node("model_version:churn-model/4")
        assert version is not None
        [before] = model_rows(store, [version])
        [model] = [e.target for e in store.edges_from([version.id], [EdgeKind.VERSION_OF])]
        [run] = [e.target for e in store.edges_from([model], [EdgeKind.GENERATED_BY]) if e.target.startswith("run:")]
        facts = Facts()
        facts.gap(Gap(run, "no_commit_tag", "run has no mlflow.source.git.commit tag", "test"))
        store.write_batch("test:gaps", facts)
        [after] = model_rows(store, [version])
        assert after.gaps == before.gaps + 1
