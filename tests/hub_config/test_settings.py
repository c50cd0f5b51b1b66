"""Site settings: TOML file, environment and command line, with clear errors."""

import pytest

from hub_config.site.errors import SettingsError
from hub_config.site.settings import example_toml, load_settings, setting_keys


def write(tmp_path, text):
    path = tmp_path / "stemlab.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_without_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("STEMLAB_DATA", raising=False)
    loaded = load_settings()
    assert loaded.settings.port == 8000 and loaded.settings.ip == "127.0.0.1"
    assert loaded.settings.hub_database_url().startswith("sqlite:///")
    assert set(loaded.sources.values()) == {"default"}


def test_precedence_and_sources(tmp_path, monkeypatch):
    path = write(tmp_path, '[school]\nname = "THCS Lê Lợi"\nprovince = "Gia Lai"\n[limits]\nmem_limit = "2G"\n[server]\nport = 9000\n')
    monkeypatch.setenv("STEMLAB_DATA", str(tmp_path / "envdata"))
    loaded = load_settings(path, {"port": 9100})
    s = loaded.settings
    assert (s.school_name, s.mem_limit, s.port) == ("THCS Lê Lợi", 2 * 1024**3, 9100)
    assert loaded.sources["school_name"].startswith("file")
    assert loaded.sources["data_dir"] == "env STEMLAB_DATA"
    assert loaded.sources["port"] == "command line"


def test_unknown_key_names_the_key_and_suggests(tmp_path):
    with pytest.raises(SettingsError, match=r"unknown setting 'school.nmae'.*Did you mean 'school.name'"):
        load_settings(write(tmp_path, '[school]\nnmae = "x"\n'))


def test_bad_value_names_key_and_expected_form(tmp_path):
    with pytest.raises(SettingsError, match=r"bad value 'abc' for server.port\. Expected an int"):
        load_settings(write(tmp_path, '[server]\nport = "abc"\n'))
    with pytest.raises(SettingsError, match=r"server.ip"):
        load_settings(write(tmp_path, '[server]\nip = "localhost:80"\n'))
    with pytest.raises(SettingsError, match=r"limits.mem_limit"):
        load_settings(write(tmp_path, '[limits]\nmem_limit = "lots"\n'))


def test_broken_toml_and_missing_file(tmp_path):
    with pytest.raises(SettingsError, match="not valid TOML"):
        load_settings(write(tmp_path, "[school\n"))
    with pytest.raises(SettingsError, match="does not exist"):
        load_settings(tmp_path / "nope.toml")


def test_example_file_documents_every_setting_and_loads(tmp_path):
    text = example_toml()
    for dotted in setting_keys():
        assert f"# {dotted.split('.')[1]} = " in text
    uncommented = "\n".join(line[2:] if line.startswith("# ") and " = " in line else line for line in text.splitlines())
    assert load_settings(write(tmp_path, uncommented)).settings.port == 8000
