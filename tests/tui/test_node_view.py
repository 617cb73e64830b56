"""The node view: properties, params and metrics tables, the lazy lineage tree, evidence, history."""

from __future__ import annotations

import gc
from pathlib import Path

from textual.widgets import Input, TabbedContent
from textual.widgets._footer import FooterKey

from explorer.config import Settings
from explorer.graph import Direction
from explorer.lineage import EdgeKind, NodeKind
from explorer.store import LineageStore
from explorer.tui.data.nodes import node_detail
from explorer.tui.screens.models import PREVIEW_AFTER
from explorer.tui.screens.node import NodeScreen
from explorer.tui.screens.value import ValueScreen
from explorer.tui.widgets.breadcrumb import Breadcrumb
from explorer.tui.widgets.evidence import EvidencePanel
from explorer.tui.widgets.footer import ExplorerFooter, FooterPad
from explorer.tui.widgets.key_values import KeyValueTable
from explorer.tui.widgets.lineage_tree import LineageTree
from explorer.tui.widgets.models_table import ModelsTable
from tests.tui.factory import SIZE, make_app, pilot_test, screen_text, settle

VERSION = "model_version:churn-model/v2.0.0"


async def _open(app, pilot, node_id: str) -> NodeScreen:  # type: ignore[no-untyped-def]
    await settle(pilot)
    app.open_node(node_id)
    await settle(pilot)
    assert isinstance(app.screen, NodeScreen)
    return app.screen


@pilot_test
async def test_properties_and_tree_of_a_version(store: LineageStore, workspace_settings: Settings) -> None:
    upstream = [e for e in store.edges_from([VERSION]) if e.kind != EdgeKind.PARENT]
    app = make_app(store, workspace_settings)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open(app, pilot, VERSION)
        props = dict(screen.query_one("#properties", KeyValueTable).items)
        assert props["id"] == VERSION and props["version"] == "v2.0.0" and props["registry"] == "gto"
        tree = screen.query_one(LineageTree)
        assert tree.root.data is not None and tree.root.data.node_id == VERSION
        children = [c.data for c in tree.root.children if c.data is not None and c.data.edge is not None]
        assert sorted(c.node_id for c in children) == sorted(e.target for e in upstream)
        assert screen.query_one(Breadcrumb).labels == ["churn-model v2.0.0 [model_version]"]


@pilot_test
async def test_params_and_metrics_tables_of_a_run(store: LineageStore, workspace_settings: Settings) -> None:
    run = store.nodes(NodeKind.RUN)[0]
    app = make_app(store, workspace_settings)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open(app, pilot, run.id)
        params = dict(screen.query_one("#params", KeyValueTable).items)
        metrics = dict(screen.query_one("#metrics", KeyValueTable).items)
        assert params == run.properties["params"] and params
        assert metrics == run.properties["metrics"]
        assert "params" not in dict(screen.query_one("#properties", KeyValueTable).items)


@pilot_test
async def test_expand_lazily_and_show_evidence(store: LineageStore, workspace_settings: Settings) -> None:
    app = make_app(store, workspace_settings)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open(app, pilot, VERSION)
        tree = screen.query_one(LineageTree)
        registers = next(c for c in tree.root.children if c.data and c.data.edge and c.data.edge.kind == "registers")
        assert not registers.children  # nothing below is loaded before it is expanded
        tree.move_cursor(registers)
        await pilot.press("space")
        await settle(pilot)
        below = [c.data.node_id for c in registers.children if c.data is not None]
        assert below and all(n.startswith("stage:") for n in below)  # model.pkl generated_by the train stage
        evidence = str(screen.query_one(EvidencePanel).render())
        edge = registers.data.edge  # type: ignore[union-attr]
        assert edge is not None and edge.evidence.locator[:30] in evidence and "said by gto" in evidence


@pilot_test
async def test_e_shows_the_evidence_whole_at_80_columns(store: LineageStore, workspace_settings: Settings) -> None:
    """At 80x24 a long locator pushes the rule and edge lines out of the fixed-height panel, which no
    key could scroll: `e` shows the whole evidence in a dialog."""
    app = make_app(store, workspace_settings)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await _open(app, pilot, VERSION)
        tree = screen.query_one(LineageTree)
        registers = next(c for c in tree.root.children if c.data and c.data.edge and c.data.edge.kind == "registers")
        tree.move_cursor(registers)
        await settle(pilot)
        edge = registers.data.edge  # type: ignore[union-attr]
        assert edge is not None
        await pilot.press("e")
        await settle(pilot)
        assert isinstance(app.screen, ValueScreen)
        whole = app.screen.value
        assert edge.evidence.locator in whole and edge.evidence.rule in whole and edge.target in whole
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is screen


@pilot_test
async def test_toggle_direction(store: LineageStore, workspace_settings: Settings) -> None:
    data = next(e.target for e in store.edges_from([VERSION], [EdgeKind.REGISTERS]))
    downstream = {e.source for e in store.edges_to([data])}
    app = make_app(store, workspace_settings)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open(app, pilot, data)
        await pilot.press("u")
        await settle(pilot)
        assert screen.direction == Direction.DOWN and screen.query_one("#tree-title").has_class("-downstream")
        tree = screen.query_one(LineageTree)
        assert {c.data.node_id for c in tree.root.children if c.data and c.data.edge} == downstream
        assert VERSION in downstream
        await pilot.press("u")
        await settle(pilot)
        assert screen.direction == Direction.UP and not screen.query_one("#tree-title").has_class("-downstream")


@pilot_test
async def test_follow_back_and_forward(store: LineageStore, workspace_settings: Settings) -> None:
    app = make_app(store, workspace_settings)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open(app, pilot, VERSION)
        tree = screen.query_one(LineageTree)
        target = tree.root.children[-1].data.node_id  # type: ignore[union-attr]
        tree.move_cursor(tree.root.children[-1])
        await pilot.press("enter")
        await settle(pilot)
        assert screen.node_id == target
        assert len(screen.query_one(Breadcrumb).labels) == 2
        await pilot.press("left_square_bracket")
        await settle(pilot)
        assert screen.node_id == VERSION
        await pilot.press("right_square_bracket")
        await settle(pilot)
        assert screen.node_id == target
        assert screen.history.trail == [VERSION, target]


@pilot_test
async def test_enter_on_a_property_shows_it_whole(store: LineageStore, workspace_settings: Settings) -> None:
    app = make_app(store, workspace_settings)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await _open(app, pilot, VERSION)
        table = screen.query_one("#properties", KeyValueTable)
        history_row = [name for name, _ in table.items].index("stage_history")
        table.focus()
        table.move_cursor(row=history_row)
        cell = str(table.get_row_at(history_row)[1])
        assert cell.endswith("…")  # cut at 80 columns, with an ellipsis
        await pilot.press("enter")
        assert isinstance(app.screen, ValueScreen)
        assert app.screen.value == store.node(VERSION).properties["stage_history"]  # type: ignore[union-attr]
        await pilot.press("escape")
        assert isinstance(app.screen, NodeScreen)


@pilot_test
async def test_find_in_view(store: LineageStore, workspace_settings: Settings) -> None:
    app = make_app(store, workspace_settings)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open(app, pilot, VERSION)
        await pilot.press("slash")
        assert isinstance(app.focused, Input) and app.focused.id == "node-find"
        await pilot.press(*"model.pkl")
        tree = screen.query_one(LineageTree)
        assert tree.cursor_node is not None and "model.pkl" in tree.cursor_node.data.label  # type: ignore[union-attr]
        assert [n for n, _ in screen.query_one("#properties", KeyValueTable).items] == ["artifact_path"]
        await pilot.press("escape")
        assert not screen.query_one("#node-find", Input).has_class("-open")
        assert len(screen.query_one("#properties", KeyValueTable).items) > 5


@pilot_test
async def test_unknown_node(store: LineageStore, workspace_settings: Settings) -> None:
    app = make_app(store, workspace_settings)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open(app, pilot, "commit:" + "0" * 40)
        assert screen.detail is None
        assert "not in the store" in screen.query_one(Breadcrumb).labels[-1]


@pilot_test
async def test_back_restores_the_tree_from_memory(store: LineageStore, workspace_settings: Settings) -> None:
    app = make_app(store, workspace_settings)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open(app, pilot, VERSION)
        tree = screen.query_one(LineageTree)
        registers = next(c for c in tree.root.children if c.data and c.data.edge and c.data.edge.kind == "registers")
        tree.move_cursor(registers)
        await pilot.press("space")
        await settle(pilot)
        below = [c.data.node_id for c in registers.children if c.data is not None]
        target = registers.data.node_id  # type: ignore[union-attr]
        await pilot.press("enter")
        await settle(pilot)
        assert screen.node_id == target
        await pilot.press("left_square_bracket")
        await pilot.pause()  # no worker needed: details and pages come from memory
        assert not [w for w in app.workers if not w.is_finished and w.group in ("node-detail", "lineage")]
        assert screen.node_id == VERSION
        again = next(c for c in tree.root.children if c.data and c.data.edge and c.data.edge.kind == "registers")
        assert again.is_expanded and [c.data.node_id for c in again.children if c.data is not None] == below
        assert tree.cursor_node is again  # the cursor is where it was left


@pilot_test
async def test_the_node_view_is_reused(store: LineageStore, workspace_settings: Settings) -> None:
    run = store.nodes(NodeKind.RUN)[0]
    app = make_app(store, workspace_settings)
    async with app.run_test(size=SIZE) as pilot:
        first = await _open(app, pilot, VERSION)
        await pilot.press("u")
        await settle(pilot)
        await pilot.press("escape")
        await settle(pilot)
        assert not isinstance(app.screen, NodeScreen)
        second = await _open(app, pilot, run.id)
        assert second is first  # switched content, nothing composed again
        assert second.history.trail == [run.id] and second.direction == Direction.UP
        assert second.query_one(Breadcrumb).labels[-1].startswith(run.label)
        tree = second.query_one(LineageTree)
        assert tree.root.data is not None and tree.root.data.node_id == run.id


@pilot_test
async def test_the_node_view_is_composed_ahead_while_the_home_is_idle(
    store: LineageStore, workspace_settings: Settings
) -> None:
    app = make_app(store, workspace_settings)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.pause(0.4)  # the models home has shown its rows and is idle
        await settle(pilot)
        prepared = app._node_screen
        assert prepared is not None and prepared.is_running and not prepared.is_current
        assert prepared.query_one(LineageTree).size.width > 0  # laid out off-screen already
        assert prepared.query(FooterKey)  # its footer has made its keys too
        assert not isinstance(app.screen, NodeScreen)
        screen = await _open(app, pilot, VERSION)
        assert screen is prepared
        assert screen.history.trail == [VERSION]
        assert screen.query_one(Breadcrumb).labels == ["churn-model v2.0.0 [model_version]"]
        tree = screen.query_one(LineageTree)
        assert tree.root.data is not None and tree.root.data.node_id == VERSION


@pilot_test
async def test_opening_while_the_node_view_is_being_composed(store: LineageStore, workspace_settings: Settings) -> None:
    app = make_app(store, workspace_settings)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.prepare_node_view()
        app.open_node(VERSION)  # before its on_mount ran
        await settle(pilot)
        assert isinstance(app.screen, NodeScreen) and app.screen is app._node_screen
        assert app.screen.query_one(Breadcrumb).labels == ["churn-model v2.0.0 [model_version]"]


@pilot_test
async def test_a_highlighted_node_is_fetched_before_it_is_followed(
    store: LineageStore, workspace_settings: Settings
) -> None:
    """Moving onto a line fetches that node's details and first page in the background: Enter then
    shows it from memory, starting no store query."""
    app = make_app(store, workspace_settings)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open(app, pilot, VERSION)
        tree = screen.query_one(LineageTree)
        line = tree.root.children[-1]
        target = line.data.node_id  # type: ignore[union-attr]
        assert target not in screen._details
        tree.move_cursor(line)
        await settle(pilot)
        assert screen._details[target] is not None and screen._details[target].node.id == target  # type: ignore[union-attr]
        assert (target, Direction.UP, 0) in tree._pages
        queried: list[str] = []
        load_detail, load_page = screen.load_detail, tree.load
        screen.load_detail = lambda node_id, trail: (queried.append(node_id), load_detail(node_id, trail))[1]  # type: ignore[method-assign]
        tree.load = lambda line, node_id, offset: (queried.append(node_id), load_page(line, node_id, offset))[1]  # type: ignore[method-assign]
        await pilot.press("enter")
        await settle(pilot)
        assert screen.node_id == target
        assert queried == []  # neither the details nor the tree's first page were queried on Enter
        assert tree.root.data is not None and tree.root.data.node_id == target and tree.root.children


@pilot_test
async def test_the_footer_keeps_its_width_when_version_keys_hide(
    store: LineageStore, workspace_settings: Settings
) -> None:
    """Hiding the model version keys leaves their width to a blank pad: the footer's content width does
    not change (a changed one costs a second layout pass), and the keys change with the node at once."""
    app = make_app(store, workspace_settings)
    async with app.run_test(size=(120, 30)) as pilot:  # the keys of a version overflow 120 columns, others not
        screen = await _open(app, pilot, VERSION)
        footer = screen.query_one(ExplorerFooter)
        version_keys = [k for k in footer.query(FooterKey) if k.action in ("diff_previous", "bom", "verify")]
        assert len(version_keys) == 3 and all(k.display for k in version_keys)
        width = footer.virtual_size.width
        assert width > 120
        run = store.nodes(NodeKind.RUN)[0]
        screen._details[run.id] = node_detail(store, run.id)  # in memory: shown within go()
        screen.go(run.id)
        assert not any(k.display for k in version_keys)  # hidden in the same call, not a message later
        await settle(pilot)
        assert screen.detail is not None and screen.detail.node.id == run.id
        assert footer.virtual_size.width == width
        pad = footer.query_one(FooterPad)
        keys = [k for k in footer.query(FooterKey) if not k.has_class("-command-palette")]
        assert pad.size.width == sum(k.outer_size.width for k in keys if not k.display)  # version keys and all
        await pilot.press("left_square_bracket")
        await settle(pilot)
        assert all(k.display for k in version_keys)
        assert pad.size.width == sum(k.outer_size.width for k in keys if not k.display)  # those past 120 columns
        assert footer.virtual_size.width == width


@pilot_test
async def test_a_theme_change_while_the_node_view_is_hidden_restyles_it(
    store: LineageStore, workspace_settings: Settings
) -> None:
    """Opening the node view again skips Textual's restyle of every widget, unless the CSS changed."""
    app = make_app(store, workspace_settings)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open(app, pilot, VERSION)
        tree = screen.query_one(LineageTree)
        dark = tree.styles.background
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("T")
        await settle(pilot)
        assert app.theme == "mlprov-light"
        again = await _open(app, pilot, VERSION)
        assert again is screen
        assert tree.styles.background != dark
        assert tree.styles.background == app.screen.query_one(KeyValueTable).styles.background  # both $surface


@pilot_test
async def test_the_highlighted_version_is_ready_in_the_hidden_node_view(
    store: LineageStore, workspace_settings: Settings
) -> None:
    """Once the cursor rests on a row of the models home, the hidden node view shows that version:
    Enter brings it up without a store query."""
    app = make_app(store, workspace_settings)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.pause(0.4)  # the node view is composed ahead
        await settle(pilot)
        await pilot.press("down")
        await pilot.pause(PREVIEW_AFTER + 0.2)
        await settle(pilot)
        table = app.screen.query_one(ModelsTable)
        wanted = table.shown[table.cursor_row].id
        hidden = app._node_screen
        assert hidden is not None and not hidden.is_current
        assert hidden.node_id == wanted and hidden.detail is not None and hidden.detail.node.id == wanted
        tree = hidden.query_one(LineageTree)
        assert tree.root.data is not None and tree.root.data.node_id == wanted and tree.root.children
        queried: list[str] = []
        load_detail, load_page = hidden.load_detail, tree.load
        hidden.load_detail = lambda node_id, trail: (queried.append(node_id), load_detail(node_id, trail))[1]  # type: ignore[method-assign]
        tree.load = lambda line, node_id, offset: (queried.append(node_id), load_page(line, node_id, offset))[1]  # type: ignore[method-assign]
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen is hidden and queried == []
        assert hidden.history.trail == [wanted]
        assert hidden.query_one(Breadcrumb).labels[-1].startswith(hidden.detail.node.label)


@pilot_test
async def test_enter_right_after_moving_opens_the_highlighted_version(
    store: LineageStore, workspace_settings: Settings
) -> None:
    """The hidden node view shows the version the cursor rested on before; Enter on another row at
    once opens that other one."""
    app = make_app(store, workspace_settings)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.pause(0.4 + PREVIEW_AFTER)
        await settle(pilot)
        hidden = app._node_screen
        table = app.screen.query_one(ModelsTable)
        assert hidden is not None and hidden.node_id == table.shown[table.cursor_row].id
        await pilot.press("down", "down", "enter")  # no pause: before the new row is shown ahead
        await settle(pilot)
        wanted = table.shown[table.cursor_row].id
        assert app.screen is hidden and hidden.node_id == wanted and hidden.history.trail == [wanted]
        assert hidden.detail is not None and hidden.detail.node.id == wanted
        assert hidden.query_one(LineageTree).root.data.node_id == wanted  # type: ignore[union-attr]
        assert hidden.query_one(Breadcrumb).labels[-1].startswith(hidden.detail.node.label)


@pilot_test
async def test_an_open_node_view_is_not_changed_by_a_preview(store: LineageStore, workspace_settings: Settings) -> None:
    app = make_app(store, workspace_settings)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open(app, pilot, VERSION)
        other = store.nodes(NodeKind.RUN)[0].id
        app.preview_node(other)
        screen.preview(other)
        await settle(pilot)
        assert screen.node_id == VERSION and screen.history.trail == [VERSION]


@pilot_test
async def test_long_lived_objects_are_frozen_while_the_app_runs(
    store: LineageStore, workspace_settings: Settings
) -> None:
    app = make_app(store, workspace_settings)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.pause(0.4)
        await settle(pilot)
        assert app._node_screen is not None and gc.get_freeze_count() > 0
    assert gc.get_freeze_count() == 0  # given back to the collector on exit


def test_the_private_textual_parts_the_explorer_uses_still_exist() -> None:
    """The node view is composed, laid out and drawn off-screen through private Textual parts, and the
    footer and the resume skip read others: a Textual upgrade that changes them fails here first."""
    from textual.app import App
    from textual.events import ScreenResume
    from textual.screen import Screen
    from textual.widget import Widget

    for owner, name in [
        (App, "_register"),
        (App, "_load_screen_css"),
        (Screen, "_refresh_layout"),
        (Screen, "_update_timer"),
        (Widget, "_size_updated"),
    ]:
        assert hasattr(owner, name), f"{owner.__name__}.{name}"
    assert ScreenResume().refresh_styles is True  # the node view turns it off when nothing changed
    app = App()
    assert isinstance(app._css_update_count, int) and isinstance(app.stylesheet.source, dict)
    screen = Screen()
    assert hasattr(screen, "_compositor") and hasattr(screen._compositor, "render_update")
    assert hasattr(FooterKey("a", "a", "a", "a"), "_disabled")


@pilot_test
async def test_values_fit_the_table_after_a_node_with_longer_names(
    store: LineageStore, workspace_settings: Settings
) -> None:
    """Each node's rows are laid out afresh: a long property name shown before no longer keeps the name
    column wide (the values, cut to fit a narrower one, ran past the edge without an ellipsis), and long
    param names leave the values room in an 80-column terminal."""
    app = make_app(store, workspace_settings)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await _open(app, pilot, VERSION)
        props = screen.query_one("#properties", KeyValueTable)
        props.show([("stage_history_of_this_version", "x")])
        await settle(pilot)
        props.show([("id", "stage:example-get-started-experiments:train@" + "8" * 40)])
        await settle(pilot)
        assert props.max_scroll_x == 0
        value = str(props.get_row_at(0)[1])
        assert value.endswith("…") and len(value) > 12
        props.show([("params.yaml:train.fine_tune_args.base_lr", "shufflenet_v2_x2_0")])
        await settle(pilot)
        assert props.max_scroll_x == 0
        assert len(str(props.get_row_at(0)[1])) >= 12


@pilot_test
async def test_keys_that_do_not_fit_80_columns_are_hidden_whole_behind_an_ellipsis(
    store: LineageStore, workspace_settings: Settings
) -> None:
    """The node view has more keys than 80 columns hold: the footer cut the last one mid-word ("d Diff p")
    and pushed `? Keys` out of sight. Now the keys that fit are shown whole, `? Keys` among them, then "…"."""
    app = make_app(store, workspace_settings)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await _open(app, pilot, VERSION)
        await settle(pilot)
        footer = screen.query_one(ExplorerFooter)
        keys = [k for k in footer.query(FooterKey) if not k.has_class("-command-palette")]
        shown = [k for k in keys if k.display]
        palette = footer.query_one(".-command-palette", FooterKey)
        assert 0 < len(shown) < len(keys)
        assert "help" in [k.action for k in shown]
        assert all(k.region.right <= palette.region.x for k in shown)  # none runs under the palette key
        line = screen_text(app).splitlines()[-1]
        assert "? Keys" in line and "…" in line and "Diff p" not in line
        assert line.index("…") > line.index("esc Close")
        await pilot.resize_terminal(160, 24)
        await settle(pilot)
        assert all(k.display for k in keys) and footer.query_one(FooterPad).overflowed is False
        assert "…" not in screen_text(app).splitlines()[-1]


@pilot_test
async def test_tab_labels_keep_their_counts_at_80_columns(store: LineageStore, workspace_settings: Settings) -> None:
    run = store.nodes(NodeKind.RUN)[0]
    params, metrics = len(run.properties["params"]), len(run.properties["metrics"])
    app = make_app(store, workspace_settings)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await _open(app, pilot, run.id)
        await settle(pilot)
        tabs = screen.query_one(TabbedContent)
        labels = [str(tabs.get_tab(t).label) for t in ("tab-properties", "tab-params", "tab-metrics", "tab-gaps")]
        gaps = len(screen.detail.gaps) if screen.detail else -1
        assert labels == ["Props", f"Params {params}", f"Metrics {metrics}", f"Gaps {gaps}"]
        assert f"Gaps {gaps}" in screen_text(app)  # the row fits: the last count is on screen
        await pilot.resize_terminal(140, 24)
        await settle(pilot)
        assert str(tabs.get_tab("tab-properties").label) == "Properties"


def test_tab_labels_shorten_to_fit_and_keep_counts() -> None:
    from explorer.tui.data.text import tab_labels

    assert tab_labels(60, 3, 12, 1) == ("Properties", "Params 3", "Metrics 12", "Gaps 1")
    assert tab_labels(39, 3, 12, 1) == ("Props", "Params 3", "Metrics 12", "Gaps 1")  # 80 columns: 39 cells
    assert tab_labels(30, 3, 12, 1) == ("Props", "Par 3", "Met 12", "Gaps 1")
    assert tab_labels(20, 300, 12, 10) == ("P", "Pa 300", "Me 12", "G 10")


@pilot_test
async def test_an_edge_said_twice_is_one_line_with_both_evidences(workspace_settings: Settings, tmp_path: Path) -> None:
    """A workspace copied elsewhere and scanned again records each edge again with the new path in its
    evidence: the tree showed every edge twice (seen on a moved sample workspace)."""
    import shutil

    from explorer.lineage import Evidence, Facts
    from explorer.tui.data.nodes import neighbours

    db = tmp_path / "copy.db"
    shutil.copy(workspace_settings.db_url.removeprefix("sqlite:///"), db)
    store = LineageStore.open(f"sqlite:///{db}")
    [edge] = store.edges_from(["model_version:churn-model/4"], [EdgeKind.VERSION_OF])
    facts = Facts()
    facts.link(edge.source, edge.target, edge.kind, Evidence("mlflow", "/moved/ws/mlflow.db version 4", "registered"))
    store.write_batch("test:moved", facts)
    assert len(store.edges_from([edge.source], [EdgeKind.VERSION_OF])) == 2
    page = neighbours(store, edge.source, Direction.UP)
    [item] = [i for i in page.items if i.edge.kind == EdgeKind.VERSION_OF]
    assert [e.locator for e in item.also] == ["/moved/ws/mlflow.db version 4"]
    app = make_app(store, workspace_settings)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open(app, pilot, edge.source)
        tree = screen.query_one(LineageTree)
        lines = [c for c in tree.root.children if c.data and c.data.edge and c.data.edge.kind == EdgeKind.VERSION_OF]
        assert len(lines) == 1
        tree.move_cursor(lines[0])
        await settle(pilot)
        shown = str(screen.query_one(EvidencePanel).render())
        assert "(and 1 more)" in shown and "also said by mlflow: /moved/ws/mlflow.db version 4" in shown
    store.close()


@pilot_test
async def test_version_keys_on_a_run_and_a_find_without_match_say_so(
    store: LineageStore, workspace_settings: Settings
) -> None:
    """d, b and v did nothing at all on a run (the footer hides them there; the key map lists them for
    the node view), and a find matching no line did nothing either."""
    run = store.nodes(NodeKind.RUN)[0]
    app = make_app(store, workspace_settings)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open(app, pilot, run.id)
        await pilot.press("d")
        await settle(pilot)
        assert [n.message for n in app._notifications] == ["Diff prev works on model versions; this is a run"]
        assert isinstance(app.screen, NodeScreen)
        await pilot.press("slash", *"zzqq", "enter")
        await settle(pilot)
        assert "no line of the tree loaded so far holds “zzqq”" in [n.message for n in app._notifications][-1]
        screen.go(VERSION)
        await settle(pilot)
        await pilot.press("escape")  # close the find
        await settle(pilot)
        await pilot.press("d")  # on a version the key works
        await settle(pilot)
        from explorer.tui.screens.diff import DiffScreen

        assert isinstance(app.screen, DiffScreen)


@pilot_test
async def test_a_footer_made_anew_is_fitted_before_its_first_frame(
    store: LineageStore, workspace_settings: Settings
) -> None:
    """Keys composed anew (another screen's set) were fitted only after their first frame: a cut "q" of
    "q Quit" flashed by at 80 columns. Their widths are now measured before they are laid out."""
    app = make_app(store, workspace_settings)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        footer = app.screen.query_one(ExplorerFooter)
        from textual._context import active_message_pump

        footer._shape = None  # as if the keys had never been made: the next update recomposes
        token = active_message_pump.set(footer)  # as when the footer runs it (the keys bind to it)
        try:
            await footer._update_keys()  # no frame in between
        finally:
            active_message_pump.reset(token)
        keys = [k for k in footer.query(FooterKey) if not k.has_class("-command-palette")]
        assert all(k.outer_size.width == 0 for k in keys)  # new widgets, not laid out yet
        shown = [k for k in keys if k.display]
        assert 0 < len(shown) < len(keys) and "help" in [k.action for k in shown]
        palette = footer.query_one(".-command-palette", FooterKey)
        await settle(pilot)
        assert sum(k.outer_size.width for k in shown) < footer.size.width - palette.outer_size.width


@pilot_test
async def test_the_nothing_upstream_line_says_so_in_the_evidence_panel(
    store: LineageStore, workspace_settings: Settings
) -> None:
    """The panel said "Root node: move to an edge…" on the "(nothing upstream)" line."""
    raw = next(n for n in store.nodes(NodeKind.DATA) if not store.edges_from([n.id]))  # data nothing made
    app = make_app(store, workspace_settings)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open(app, pilot, raw.id)
        tree = screen.query_one(LineageTree)
        [line] = tree.root.children
        assert line.data is not None and line.data.nothing
        tree.move_cursor(line)
        await settle(pilot)
        shown = str(screen.query_one(EvidencePanel).render())
        assert f"No edge upstream of {raw.id}" in shown and "Root node" not in shown


@pilot_test
async def test_down_on_the_tab_bar_goes_into_the_tab(store: LineageStore, workspace_settings: Settings) -> None:
    """Tab put the focus on the tab bar, where Down and Enter did nothing."""
    from textual.widgets import Tabs

    run = store.nodes(NodeKind.RUN)[0]
    app = make_app(store, workspace_settings)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open(app, pilot, run.id)
        screen.query_one(Tabs).focus()
        await pilot.press("right")  # to Params
        await settle(pilot)
        await pilot.press("down")
        await settle(pilot)
        assert isinstance(app.focused, KeyValueTable) and app.focused.id == "params"
