"""One Settings object: the order it reads its sources in, typed values, clear errors,
and the CLI and the app agreeing on instance/config.py."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from faceid import Settings, create_app
from faceid.cli import main
from faceid.errors import ConfigError


def test_sources_in_order(tmp_path):
    (tmp_path / "config.py").write_text("FACEID_LOCKOUT_ATTEMPTS = 7\nFACEID_DETECTOR = 'yunet'\n")
    environ = {"FACEID_DETECTOR": "hog", "FACEID_JSON_LOGS": "0", "UNRELATED": "x"}
    settings = Settings.load({"FACEID_LOCKOUT_S": 9}, environ=environ, instance_path=tmp_path)
    assert settings.lockout_attempts == 7  # instance file
    assert settings.detector == "hog"  # environment beats the instance file
    assert settings.json_logs is False  # typed from "0"
    assert settings.lockout_s == 9.0  # overrides last
    assert Settings.load(environ={}, instance_path=None).lockout_attempts == 5


@pytest.mark.parametrize(
    ("environ", "named"),
    [
        ({"FACEID_LOCKOUT_ATTEMPTS": "many"}, "FACEID_LOCKOUT_ATTEMPTS"),
        ({"FACEID_PORT": "70000"}, "FACEID_PORT"),
        ({"FACEID_LOG_LEVEL": "LOUD"}, "FACEID_LOG_LEVEL"),
    ],
)
def test_bad_values_name_the_setting(environ, named):
    with pytest.raises(ConfigError) as err:
        Settings.load(environ=environ, instance_path=None)
    assert named in err.value.message


def test_unknown_override_is_refused():
    with pytest.raises(ConfigError, match="FACEID_LOCKOUT_ATEMPTS"):
        Settings.load({"FACEID_LOCKOUT_ATEMPTS": 3}, environ={}, instance_path=None)


def test_cli_and_app_read_the_same_instance_config(tmp_path, monkeypatch):
    """`faceid init-db` and the app both take FACEID_DATA_DIR from instance/config.py."""
    instance = tmp_path / "instance"
    instance.mkdir()
    data = tmp_path / "from-instance"
    (instance / "config.py").write_text(f"FACEID_DATA_DIR = {str(data)!r}\n")
    monkeypatch.setenv("FACEID_INSTANCE_PATH", str(instance))
    monkeypatch.delenv("FACEID_DATA_DIR", raising=False)
    result = CliRunner().invoke(main, ["init-db"])
    assert result.exit_code == 0, result.output
    assert str(data / "faceid.db") in result.output
    app = create_app({"TESTING": True})
    assert app.extensions["faceid"].settings.data_dir == data


def test_open_rate_limit_can_be_turned_off_from_the_environment():
    """An empty variable counts as unset (the default limit); `off` turns it off."""
    load = Settings.load
    assert load(environ={"FACEID_OPEN_RATE_LIMIT": ""}, instance_path=None).open_rate_limit
    assert load(environ={"FACEID_OPEN_RATE_LIMIT": "off"}, instance_path=None).open_rate_limit == ""
