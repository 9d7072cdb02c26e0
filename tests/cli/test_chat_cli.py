"""``switchboard chat``: in-process through ``main()`` (``run_main``: stdin, env and
output as a process has them), against fake vendors configured only through env vars; the
first test runs it as a real subprocess, proving the program itself starts and answers."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path

import pytest

from switchboard.cli.chat import format_cost
from switchboard.cli.main import main
from switchboard.spec.image import sniff_media_type as image_media_type
from tests.cli.run import run_cli, run_main
from tests.fakes import openai as fake_openai
from tests.fakes.script import Fail, Reply, ScriptToolCall
from tests.fakes.server import serve_in_thread
from tests.fakes.vendor import FakeVendor

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)
KEY = "sk-cli-test-secret-0123456789"


@pytest.fixture
def openai_env() -> Iterator[tuple[FakeVendor, dict[str, str]]]:
    app = FakeVendor(fake_openai.Wire())
    with serve_in_thread(app) as base:
        yield app, {"OPENAI_BASE_URL": f"{base}/v1", "OPENAI_API_KEY": KEY}


# -- with no configuration at all -----------------------------------------------------
def test_with_no_configuration_the_offline_model_answers() -> None:
    done = run_cli("chat", "hi")
    assert done.returncode == 0, done.stderr
    assert "offline model" in done.stdout
    stats = done.stderr.strip().splitlines()[-1]
    assert stats.startswith("offline:offline-chat · ")
    assert " in / " in stats and " out tokens · $0.00 · " in stats
    assert "first token" in stats


def test_the_prompt_can_come_from_stdin() -> None:
    done = run_main("chat", "--no-stream", input="please summarise: the cat sat\n")
    assert done.returncode == 0, done.stderr
    assert "the cat sat" in done.stdout


def test_no_prompt_at_all_is_a_clear_error() -> None:
    done = run_main("chat", input="")
    assert done.returncode == 1
    assert done.stderr.startswith("error: the prompt is empty")


def test_no_stream_makes_one_call_and_reports_without_first_token(
        capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["chat", "--no-stream", "--system", "be brief", "hello"]) == 0
    out, err = capsys.readouterr()
    assert out.endswith("\n") and out.strip()
    assert err.startswith("offline:offline-chat · ")
    assert "first token" not in err


def test_auto_names_the_model_it_chose_and_why(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["chat", "--no-stream", "-m", "auto",
                 "Write a Python function that reverses a string"]) == 0
    out, err = capsys.readouterr()
    assert out.strip()
    assert err.startswith("auto: code → offline:offline-chat, ")
    assert "offline:offline-chat · " in err


# -- bad input -------------------------------------------------------------------------
@pytest.mark.parametrize(("args", "message"), [
    (["--temperature", "5"],
     "error: --temperature: input should be less than or equal to 2 (got 5.0)"),
    (["--max-tokens", "0"],
     "error: --max-tokens: input should be greater than or equal to 1 (got 0)"),
    (["-m", "nope"], "error: unknown model 'nope': no enabled provider lists it."),
    (["-m", "nobody:model"], "error: unknown provider 'nobody'"),
])
def test_bad_options_are_one_error_line(args: list[str], message: str,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["chat", *args, "hi"]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith(message)
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_a_missing_key_names_the_env_var(capsys: pytest.CaptureFixture[str]) -> None:
    # The first run seeds 'openai' disabled (no key in the environment): enable it first.
    assert main(["providers", "update", "openai", "--enable"]) == 0
    capsys.readouterr()
    assert main(["chat", "-m", "openai:gpt-4o-mini", "hi"]) == 1
    err = capsys.readouterr().err
    assert err == ("error: no API key for provider 'openai' (openai): set OPENAI_API_KEY "
                   "or run `switchboard keys set openai`\n")


def test_images_are_read_and_non_images_refused(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    picture = tmp_path / "dot.png"
    picture.write_bytes(PNG)
    notes = tmp_path / "notes.txt"
    notes.write_text("not a picture")
    assert main(["chat", "--no-stream", "--image", str(picture), "what is this?"]) == 0
    assert "image/png" in capsys.readouterr().out
    assert main(["chat", "--image", str(notes), "what is this?"]) == 1
    assert capsys.readouterr().err == (
        f"error: --image {notes}: not an image (expected PNG, JPEG, GIF or WEBP)\n")
    assert main(["chat", "--image", str(tmp_path / "gone.png"), "hi"]) == 1
    assert "cannot read it (No such file or directory)" in capsys.readouterr().err


def test_image_media_types_come_from_the_bytes() -> None:
    assert image_media_type(PNG[:16]) == "image/png"
    assert image_media_type(b"\xff\xd8\xff\xe0\x00\x10JFIF") == "image/jpeg"
    assert image_media_type(b"GIF89a\x01\x00") == "image/gif"
    assert image_media_type(b"RIFF\x24\x00\x00\x00WEBPVP8 ") == "image/webp"
    assert image_media_type(b"%PDF-1.7") is None


def test_costs_are_formatted_for_people() -> None:
    from decimal import Decimal

    assert format_cost(None) == "cost unknown"
    assert format_cost(Decimal(0)) == "$0.00"
    assert format_cost(Decimal("0.000123")) == "$0.000123"
    assert format_cost(Decimal("0.0000004")) == "< $0.000001"
    assert format_cost(Decimal("1.5")) == "$1.50"
    assert format_cost(Decimal("0.00123456")) == "$0.001235"


# -- against a vendor-shaped server, configured by env vars only ------------------------
def test_streams_from_openai_through_env_vars(
        openai_env: tuple[FakeVendor, dict[str, str]]) -> None:
    app, env = openai_env
    app.then(Reply(chunks=["Hello", " from", " the fake"], input_tokens=1000,
                   cached_tokens=200, output_tokens=50))
    done = run_main("chat", "-m", "openai:gpt-4o-mini", "--temperature", "0.5",
                   "--max-tokens", "99", "--system", "terse", "hi there", env=env)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "Hello from the fake\n"
    body = app.last.body
    assert body["stream"] is True and body["model"] == "gpt-4o-mini"
    assert body["temperature"] == 0.5 and body["max_completion_tokens"] == 99
    assert body["messages"][0] == {"role": "system", "content": "terse"}
    stats = done.stderr.strip().splitlines()[-1]
    assert stats.startswith("openai:gpt-4o-mini · 1,000 in (200 cached) / 50 out tokens · $")
    assert "first token" in stats


def test_no_stream_against_openai(openai_env: tuple[FakeVendor, dict[str, str]]) -> None:
    app, env = openai_env
    app.then(Reply(chunks=["one", " shot"]))
    done = run_main("chat", "--no-stream", "-m", "openai:gpt-4o-mini", "hi", env=env)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "one shot\n"
    assert len(app.chat_requests()) == 1 and "stream" not in app.last.body


def test_tool_calls_are_printed_readably(
        openai_env: tuple[FakeVendor, dict[str, str]]) -> None:
    app, env = openai_env
    app.then(Reply(chunks=[], finish="tool_calls", tool_calls=[
        ScriptToolCall("call_1", "get_weather", '{"city":"Paris"}')]))
    done = run_main("chat", "-m", "openai:gpt-4o-mini", "weather?", env=env)
    assert done.returncode == 0, done.stderr
    assert done.stdout == '[tool call] get_weather({"city":"Paris"})\n'


def test_a_rejected_key_is_one_error_line_without_the_key(
        openai_env: tuple[FakeVendor, dict[str, str]]) -> None:
    app, env = openai_env
    app.then(Fail(401, f"Incorrect API key provided: {KEY}"))
    done = run_main("chat", "-m", "openai:gpt-4o-mini", "hi", env=env)
    assert done.returncode == 1
    assert done.stdout == ""
    assert done.stderr.startswith("error: openai: HTTP 401")
    assert "switchboard keys set openai" in done.stderr
    assert KEY not in done.stderr and "Traceback" not in done.stderr


def test_a_stream_broken_midway_keeps_the_text_and_fails(
        openai_env: tuple[FakeVendor, dict[str, str]]) -> None:
    from tests.fakes.script import Break

    app, env = openai_env
    app.then(Break(Reply(chunks=["partial ", "answer ", "lost"]), after=2))
    done = run_main("chat", "-m", "openai:gpt-4o-mini", "hi", env=env)
    assert done.returncode == 1
    assert done.stdout == "partial answer \n"
    lines = done.stderr.strip().splitlines()
    assert lines[-2].startswith("openai:gpt-4o-mini · ")
    assert lines[-1].startswith("error: ")


def test_reasoning_goes_to_stderr(monkeypatch: pytest.MonkeyPatch) -> None:
    app = FakeVendor(fake_openai.Wire(reasoning_field="reasoning_content"))
    app.then(Reply(reasoning=["Think", "ing."], chunks=["Answer."]))
    with serve_in_thread(app) as base:
        done = run_main("chat", "-m", "deepseek:deepseek-reasoner", "why?", env={
            "DEEPSEEK_API_KEY": KEY, "DEEPSEEK_BASE_URL": base})
    assert done.returncode == 0, done.stderr
    assert done.stdout == "Answer.\n"
    assert done.stderr.startswith("Thinking.\n")
    assert app.last.path == "/chat/completions"
