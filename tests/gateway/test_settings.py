"""Settings come from USAGE_GATEWAY_* variables; a bad one stops start-up by name."""

from __future__ import annotations

import pytest

from gateway.cli import main
from gateway.settings import DEFAULT_DATABASE_URL, SettingsError, load_settings


def test_defaults_run_embedded_without_services(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("DATABASE_URL", "REDIS_URL", "PORT", "WORKERS", "LOG_LEVEL"):
        monkeypatch.delenv(f"USAGE_GATEWAY_{name}", raising=False)

    settings = load_settings()

    assert settings.database_url == DEFAULT_DATABASE_URL
    assert settings.redis_url is None
    assert (settings.port, settings.workers, settings.log_level) == (8000, 1, "info")


def test_environment_overrides_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("USAGE_GATEWAY_PORT", "9100")
    monkeypatch.setenv("USAGE_GATEWAY_LOG_LEVEL", "WARNING")
    monkeypatch.setenv("USAGE_GATEWAY_REDIS_URL", "redis://127.0.0.1:6379/2")

    settings = load_settings()

    assert settings.port == 9100
    assert settings.log_level == "warning"
    assert settings.redis_url == "redis://127.0.0.1:6379/2"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("PORT", "eighty"),
        ("PORT", "70000"),
        ("WORKERS", "0"),
        ("LOG_LEVEL", "chatty"),
        ("DATABASE_URL", "mysql://localhost/usage"),
        ("REDIS_URL", "http://127.0.0.1:6379"),
    ],
)
def test_bad_value_is_one_line_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    monkeypatch.setenv(f"USAGE_GATEWAY_{name}", value)

    with pytest.raises(SettingsError) as raised:
        load_settings()

    message = str(raised.value)
    assert message.startswith(f"USAGE_GATEWAY_{name}: ")
    assert "\n" not in message


def test_cli_stops_with_the_message_and_exit_code_two(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("USAGE_GATEWAY_PORT", "eighty")

    code = main(["migrate"])

    assert code == 2
    error = capsys.readouterr().err
    assert error.startswith("usage-gateway: USAGE_GATEWAY_PORT: ")
    assert error.count("\n") == 1
