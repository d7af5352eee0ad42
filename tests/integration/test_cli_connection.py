"""Where the command line sends requests, for every combination of token, URL and switch.

The real API is played by a loopback stand-in (an emulator that accepts only the real token,
put in place of ``REAL_API_URL``); another host (``REMOTE``) is answered by respx. Each run
asserts which server received the requests: the stand-in, the local server named by a URL,
the remote host, or the emulator embedded in the command. Nothing leaves 127.0.0.1.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import respx

from langchain_acedata_images import _cli_connection
from langchain_acedata_images.cli import main
from langchain_acedata_images.emulator import EmulatorConfig, RunningEmulator, run_emulator

pytestmark = pytest.mark.integration

Capture = pytest.CaptureFixture[str]
REAL_TOKEN = "sk-real-token-of-the-stand-in"
REMOTE = "https://images.example.com"
EMBEDDED_NOTICE = "results come from the embedded emulator"


@pytest.fixture(scope="module")
def real_api() -> Iterator[RunningEmulator]:
    """The stand-in for the real API: it refuses every token but the real one (401)."""
    config = EmulatorConfig(latency=0.05, queue_delay=0.01, tokens=frozenset({REAL_TOKEN}))
    with run_emulator(config) as running:
        yield running


@pytest.fixture(autouse=True)
def _real_api_on_loopback(real_api: RunningEmulator, monkeypatch: pytest.MonkeyPatch) -> None:
    real_api.reset()
    monkeypatch.setattr(_cli_connection, "REAL_API_URL", real_api.base_url)
    monkeypatch.delenv("ACEDATACLOUD_API_TOKEN", raising=False)
    monkeypatch.delenv("ACEDATACLOUD_API_BASE_URL", raising=False)
    # Emulator settings in the environment select nothing: they only tune an emulator.
    monkeypatch.setenv("ACEDATA_EMULATOR_LATENCY", "0.05")


@pytest.fixture
def remote() -> Iterator[respx.Route]:
    """Answers ``REMOTE``; loopback requests go through; any other host fails the test."""
    with respx.mock(assert_all_called=False) as router:
        router.route(host="127.0.0.1").pass_through()
        yield router.route(host="images.example.com").respond(200, json={"items": [], "count": 0})


URLS = {
    "none": ([], None),
    "flag local": (["--base-url", "LOCAL"], None),
    "env local": ([], "LOCAL"),
    "flag remote": (["--base-url", REMOTE], None),
    "env remote": ([], REMOTE),
    "flag local, env remote": (["--base-url", "LOCAL"], REMOTE),
}


def _expected(token: bool, url: str, emulator: bool) -> str:
    """The rule under test, spelled out per case: which server must answer (or "usage")."""
    if emulator:
        return "usage" if url.startswith("flag") else "embedded"
    if url == "none":
        return "real" if token else "embedded"
    if url.startswith("flag local") or url == "env local":
        return "local"
    return "remote" if token else "usage"


@pytest.mark.parametrize("emulator_flag", [False, True], ids=["", "--emulator"])
@pytest.mark.parametrize("url", list(URLS))
@pytest.mark.parametrize("token", [False, True], ids=["no token", "token"])
def test_every_combination_reaches_the_server_the_rule_names(
    token: bool,
    url: str,
    emulator_flag: bool,
    emulator: RunningEmulator,
    real_api: RunningEmulator,
    remote: respx.Route,
    monkeypatch: pytest.MonkeyPatch,
    capsys: Capture,
) -> None:
    flags, env_url = URLS[url]
    flags = [emulator.base_url if flag == "LOCAL" else flag for flag in flags]
    if token:
        monkeypatch.setenv("ACEDATACLOUD_API_TOKEN", REAL_TOKEN)
    if env_url:
        monkeypatch.setenv(
            "ACEDATACLOUD_API_BASE_URL", emulator.base_url if env_url == "LOCAL" else env_url
        )
    code = main(["tasks", *flags, *(["--emulator"] if emulator_flag else [])])
    err = capsys.readouterr().err
    reached = {
        "real": real_api.stats()["requests"] > 0,
        "local": emulator.stats()["requests"] > 0,
        "remote": remote.called,
        "embedded": EMBEDDED_NOTICE in err,
    }
    expected = _expected(token, url, emulator_flag)
    if expected == "usage":
        assert code == 2
        assert err.count("\n") == 1  # one line, before any request
        assert not any(reached.values())
        return
    assert code == 0, err
    assert [name for name, hit in reached.items() if hit] == [expected]


def test_a_token_alone_generates_on_the_real_api(
    real_api: RunningEmulator, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: Capture
) -> None:
    monkeypatch.setenv("ACEDATACLOUD_API_TOKEN", REAL_TOKEN)
    assert main(["generate", "a fox", "--out", str(tmp_path)]) == 0
    captured = capsys.readouterr()
    assert "emulator" not in captured.err
    result = json.loads(captured.out)
    assert result["images"][0]["url"].startswith(real_api.base_url)
    assert Path(result["images"][0]["path"]).is_file()
    assert real_api.stats()["submissions"] == 1


def test_the_real_api_is_the_public_host_with_the_token(
    monkeypatch: pytest.MonkeyPatch, capsys: Capture
) -> None:
    monkeypatch.undo()  # the real REAL_API_URL, answered by respx: no request leaves
    monkeypatch.setenv("ACEDATACLOUD_API_TOKEN", REAL_TOKEN)
    monkeypatch.delenv("ACEDATACLOUD_API_BASE_URL", raising=False)
    with respx.mock() as router:
        tasks = router.post("https://api.acedata.cloud/openai/tasks").respond(
            200, json={"items": [], "count": 0}
        )
        assert main(["tasks", "--limit", "1"]) == 0
    assert tasks.call_count == 1
    request: httpx.Request = tasks.calls.last.request
    assert request.headers["authorization"] == f"Bearer {REAL_TOKEN}"
    assert "emulator" not in capsys.readouterr().err


def test_the_real_api_hint_runs_as_printed(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: Capture
) -> None:
    config = EmulatorConfig(latency=1.5, queue_delay=0.01, tokens=frozenset({REAL_TOKEN}))
    with run_emulator(config) as slow_real_api:
        monkeypatch.setattr(_cli_connection, "REAL_API_URL", slow_real_api.base_url)
        monkeypatch.setenv("ACEDATACLOUD_API_TOKEN", REAL_TOKEN)
        assert main(["generate", "slow", "--max-wait", "0.2", "--out", str(tmp_path)]) == 1
        err = capsys.readouterr().err
        hint = shlex.split(err.split("`")[1])
        assert hint[:4] == ["acedata-images", "task", "--task-id", hint[3]]
        assert "--base-url" not in hint  # the token alone leads back to the real API
        assert main(hint[1:]) == 0
        assert Path(json.loads(capsys.readouterr().out)["images"][0]["path"]).is_file()
        assert slow_real_api.stats()["submissions"] == 1
