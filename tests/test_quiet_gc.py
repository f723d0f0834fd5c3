"""The app's garbage-collection policy: frozen start-up, no full collection while an answer streams."""

from __future__ import annotations

import gc

from console.core.completion import Sampling
from console.tui import quiet_gc
from console.tui.quiet_gc import NEVER, QuietCollector
from tests.pilot_helpers import wait_for
from tests.test_chat_screen import answered, chat_app, models_loaded, pane_markdown, send


def test_install_freezes_and_uninstall_gives_everything_back():
    before = gc.get_threshold()
    frozen_before = gc.get_freeze_count()
    collector = QuietCollector()
    collector.install()
    try:
        assert gc.get_threshold() == (*before[:2], NEVER)  # young and middle as CPython has them
        assert gc.get_freeze_count() > frozen_before
        collector.install()  # twice is once: uninstall still restores CPython's own thresholds
    finally:
        collector.uninstall()
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0
    collector.uninstall()  # idempotent
    assert gc.get_threshold() == before


def test_a_collection_due_while_busy_waits_for_the_last_holder():
    collector = QuietCollector()
    collector.install()
    try:
        collector.tick()
        assert collector.full_collections == 1  # nothing busy: collected at once
        with collector.busy():
            with collector.busy():
                collector.tick()
                assert collector.full_collections == 1
            assert collector.full_collections == 1  # one holder left
        assert collector.full_collections == 2  # ran as the last one let go
        with collector.busy():
            pass
        assert collector.full_collections == 2  # nothing was due
    finally:
        collector.uninstall()


class Node:
    pass


def full_collections_while(build) -> int:  # noqa: ANN001
    """How many full collections CPython starts on its own while ``build()`` runs."""
    started: list[int] = []

    def watch(phase: str, info: dict) -> None:
        if phase == "start":
            started.append(info["generation"])

    gc.callbacks.append(watch)
    try:
        build()
    finally:
        gc.callbacks.remove(watch)
    assert started, "not one collection ran: build() allocated too little to tell"
    return started.count(2)


def linked_nodes(n: int) -> list[Node]:
    """``n`` pairs of objects pointing at each other, kept alive (they age into the old
    generation, which is what makes CPython start full collections)."""
    pairs = []
    for _ in range(n):
        a, b = Node(), Node()
        a.other, b.other = b, a
        pairs.append(a)
    return pairs


def test_no_full_collection_starts_on_its_own_and_collect_frees_cycles():
    kept: list[list[Node]] = []
    assert full_collections_while(lambda: kept.append(linked_nodes(400_000))) > 0  # CPython's own policy
    kept.clear()
    gc.collect()  # else install() would freeze those cycles for good
    collector = QuietCollector()
    collector.install()
    try:
        assert full_collections_while(lambda: kept.append(linked_nodes(400_000))) == 0
        kept.clear()  # 800,000 objects in cycles: only a full collection can free them
        collector.collect()
        assert not any(isinstance(o, Node) for o in gc.get_objects())
    finally:
        collector.uninstall()


def test_helpers_do_nothing_for_an_app_without_a_collector():
    class Bare:
        pass

    with quiet_gc.busy(Bare()):
        quiet_gc.settle(Bare())


async def test_the_console_collects_only_between_answers(pacer_server):
    before = gc.get_threshold()
    app = chat_app(pacer_server.grpc_url)
    async with app.run_test(size=(140, 40)) as pilot:
        assert await models_loaded(pilot, app)
        assert await wait_for(pilot, lambda: app.quiet_gc.installed and app.screen.warmed_up.is_finished)
        assert gc.get_threshold()[2] == NEVER and gc.get_freeze_count() > 0
        screen = app.screen
        screen.session.shared = Sampling(max_tokens=200_000)  # streams until stopped
        await send(pilot, app, "a long answer")
        assert await wait_for(pilot, lambda: all(len(pane_markdown(app, p)) > 20 for p in "AB"))
        collections = app.quiet_gc.full_collections
        app.quiet_gc.tick()  # the periodic timer fires mid-answer
        await pilot.pause(0.2)
        assert screen.streaming and app.quiet_gc.full_collections == collections
        await pilot.press("escape")
        assert await answered(pilot, app, 1)
        assert await wait_for(pilot, lambda: app.quiet_gc.full_collections == collections + 1)
    assert gc.get_threshold() == before and gc.get_freeze_count() == 0
