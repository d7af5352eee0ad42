"""The command line's choice of server, as a table: token × URL × environment × --emulator."""

from __future__ import annotations

import pytest

from langchain_acedata_images._base import DEFAULT_BASE_URL
from langchain_acedata_images._cli_connection import (
    EMPTY_NOTICE,
    EMULATOR_NOTICE,
    FORCED_NOTICE,
    REAL_API_URL,
    Target,
    UsageError,
    choose_target,
    decide_target,
)

REAL = "https://real.test"
LOCAL = "http://127.0.0.1:8000"
REMOTE = "https://images.example.com"
TOKEN = "sk-token"
PLACEHOLDER = "emulator-token"

# token, --base-url, $ACEDATACLOUD_API_BASE_URL, --emulator -> (base_url, token, flags) or error
TABLE: list[tuple[str | None, str | None, str | None, bool, tuple[object, ...] | str]] = [
    (TOKEN, None, None, False, (REAL, TOKEN, ())),  # the only way to the real API
    (None, None, None, False, (None, None, ())),
    (TOKEN, LOCAL, None, False, (LOCAL, TOKEN, ("--base-url", LOCAL))),
    (TOKEN, REMOTE, None, False, (REMOTE, TOKEN, ("--base-url", REMOTE))),
    (TOKEN, None, LOCAL, False, (LOCAL, TOKEN, ("--base-url", LOCAL))),
    (TOKEN, None, REMOTE, False, (REMOTE, TOKEN, ("--base-url", REMOTE))),
    (TOKEN, LOCAL, REMOTE, False, (LOCAL, TOKEN, ("--base-url", LOCAL))),  # the flag wins
    (None, LOCAL, None, False, (LOCAL, PLACEHOLDER, ("--base-url", LOCAL))),
    (None, None, LOCAL, False, (LOCAL, PLACEHOLDER, ("--base-url", LOCAL))),
    (None, "http://localhost:9", None, False, ("http://localhost:9", PLACEHOLDER, None)),
    (None, REMOTE, None, False, "is not set.*leave out --base-url"),
    (None, None, REMOTE, False, "is not set.*unset ACEDATACLOUD_API_BASE_URL"),
    (None, LOCAL, REMOTE, False, (LOCAL, PLACEHOLDER, ("--base-url", LOCAL))),
    (TOKEN, None, None, True, (None, None, ("--emulator",))),
    (None, None, None, True, (None, None, ("--emulator",))),
    (TOKEN, None, REMOTE, True, (None, None, ("--emulator",))),  # the switch ignores the env
    (None, None, LOCAL, True, (None, None, ("--emulator",))),
    (TOKEN, LOCAL, None, True, "exclude each other"),
    (None, REMOTE, None, True, "exclude each other"),
]


@pytest.mark.parametrize(("token", "flag_url", "env_url", "emulator", "expected"), TABLE)
def test_the_choice_of_server(
    token: str | None,
    flag_url: str | None,
    env_url: str | None,
    emulator: bool,
    expected: tuple[object, ...] | str,
) -> None:
    def decide() -> Target:
        return decide_target(
            token=token,
            base_url=flag_url,
            env_url=env_url,
            force_emulator=emulator,
            command="generate",
            real_url=REAL,
        )

    if isinstance(expected, str):
        with pytest.raises(UsageError, match=expected):
            decide()
        return
    target = decide()
    base_url, sent_token, flags = expected
    assert (target.base_url, target.token) == (base_url, sent_token)
    if flags is not None:
        assert target.flags == flags
    assert target.embedded == (base_url is None)
    # Only the real API goes without a notice; every other choice says where results come from.
    assert (target.notice is None) == (base_url is not None and token is not None)


def test_only_a_token_without_a_url_reaches_the_real_api() -> None:
    reaching = [row for row in TABLE if not isinstance(row[4], str) and row[4][0] == REAL]
    assert [(t, f, e, s) for t, f, e, s, _ in reaching] == [(TOKEN, None, None, False)]
    assert REAL_API_URL == DEFAULT_BASE_URL == "https://api.acedata.cloud"


def test_notices_name_the_embedded_emulator() -> None:
    kwargs = {"base_url": None, "env_url": None, "real_url": REAL}
    plain = decide_target(token=None, force_emulator=False, command="generate", **kwargs)
    assert plain.notice == EMULATOR_NOTICE
    forced = decide_target(token=TOKEN, force_emulator=True, command="tasks", **kwargs)
    assert forced.notice == f"{FORCED_NOTICE}\n{EMPTY_NOTICE}"


@pytest.mark.parametrize("empty", ["", None])
def test_choose_target_reads_the_environment(
    empty: str | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ACEDATACLOUD_API_TOKEN", TOKEN)
    monkeypatch.delenv("ACEDATACLOUD_API_BASE_URL", raising=False)
    if empty is not None:  # an empty variable counts as unset
        monkeypatch.setenv("ACEDATACLOUD_API_BASE_URL", empty)
    target = choose_target(None, force_emulator=False, command="generate")
    assert (target.base_url, target.token) == (REAL_API_URL, TOKEN)
    monkeypatch.setenv("ACEDATACLOUD_API_TOKEN", "")
    assert choose_target(None, force_emulator=False, command="generate").embedded
