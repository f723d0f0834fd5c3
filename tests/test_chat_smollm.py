"""Chat and the batch client end to end with the real model: SmolLM2 on the local stack."""

from __future__ import annotations

import pytest

from console import cli
from console.core.completion import Sampling
from tests.test_chat_screen import TIMEOUT, answered, chat_app, models_loaded, send

pytestmark = [pytest.mark.triton, pytest.mark.smollm, pytest.mark.slow]


async def test_both_local_models_answer_side_by_side(local_stack):
    a, b = local_stack.models[:2]
    app = chat_app(local_stack.grpc_url, models=(a, b))
    app.config.triton.timeout_s = 120
    async with app.run_test(size=(140, 40)) as pilot:
        assert await models_loaded(pilot, app)
        screen = app.screen
        assert (screen.session.panes["A"].model, screen.session.panes["B"].model) == (a, b)
        screen.session.shared = Sampling(max_tokens=12, temperature=0.0)
        await send(pilot, app, "Name one colour.")
        assert await answered(pilot, app, 1)
        for pane_id in "AB":
            answer = screen.session.exchanges[0].answers[pane_id].completion
            assert answer.ok, answer.error
            assert answer.text.strip() and 0 < answer.timing.output_tokens <= 12
            assert answer.finish_reason in ("stop", "length")
            shown = screen.pane(pane_id).shown_answer()
            assert shown == answer.text


def test_batch_client_with_the_real_model(local_stack, tmp_path, capsys):
    prompts = tmp_path / "prompts.txt"
    prompts.write_text("Say hello.\nName a fruit.\n")
    results = tmp_path / "results.txt"
    code = cli.main([
        "chat", "--model-name", local_stack.models[0], "--input-prompts", str(prompts),
        "--results-file", str(results), "--url", local_stack.grpc_url, "--max-tokens", "10",
        "--concurrency", "2", "--timeout", str(TIMEOUT * 2),
    ])
    assert code == 0, capsys.readouterr().err
    text = results.read_text()
    assert text.index("Say hello.") < text.index("Name a fruit.")
    assert "prompts: 2   succeeded: 2   failed: 0" in text
    assert text.count("--- Response ---") == 2 and "FAILED" not in text
