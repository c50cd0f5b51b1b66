"""Site settings: the one file (TOML) a school's admin edits.

Every setting is a traitlets trait with help text, tagged with the TOML section it lives in,
so ``stemlab config show`` and the generated example file are documentation of themselves.
Precedence, highest first: command line, environment (``STEMLAB_*``), the TOML file, defaults.
"""

from __future__ import annotations

import difflib
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jupyterhub.traitlets import ByteSpecification
from traitlets import Bool, Enum, Float, Integer, TraitError, Unicode, validate

from autograders.limits import Limits

from hub_config.site.cluster_settings import ClusterSettings
from hub_config.site.errors import SettingsError, StemlabError
from hub_config.site.operations_settings import OperationsSettings

DEFAULT_CONFIG_NAME = "stemlab.toml"


class SiteSettings(ClusterSettings, OperationsSettings):
    """Settings of one STEM-Lab Hub site (one school's lab server, or a province's cluster: the
    settings of ClusterSettings)."""

    province = Unicode(
        "Gia Lai",
        config=True,
        help="Province (tỉnh) shown on the login page and in reports.",
    ).tag(section="school")

    school_name = Unicode(
        "Trường THPT Mẫu (demo)",
        config=True,
        help="School name (tên trường) shown on the login page and in grade sheets.",
    ).tag(section="school", key="name")

    timezone = Unicode(
        "Asia/Ho_Chi_Minh",
        config=True,
        help="The school's time zone: due dates are typed and shown in it (nbgrader keeps UTC).",
    ).tag(section="school")

    ip = Unicode(
        "127.0.0.1",
        config=True,
        help="Address the proxy listens on. 127.0.0.1 for this machine only; 0.0.0.0 for the lab network.",
    ).tag(section="server")

    port = Integer(
        8000,
        min=1,
        max=65535,
        config=True,
        help="Port students open in the browser (http://<ip>:<port>).",
    ).tag(section="server")

    data_dir = Unicode(
        "var",
        config=True,
        help="Data directory: hub database, accounts, homes, courses, kit reports, logs. "
        "Relative paths are taken from the current directory.",
    ).tag(section="storage")

    database_url = Unicode(
        "",
        config=True,
        help="SQLAlchemy URL of the hub database. Empty: SQLite in the data directory. "
        "PostgreSQL: postgresql://user:password@host/dbname",
    ).tag(section="storage")

    open_signup = Bool(
        False,
        config=True,
        help="Let people create their own accounts on the login page (they still need an admin's approval "
        "unless this is true). Schools normally import rosters instead.",
    ).tag(section="auth")

    allowed_failed_logins = Integer(
        5,
        min=0,
        config=True,
        help="Wrong passwords in a row before a login is paused (0: never).",
    ).tag(section="auth")

    seconds_before_next_try = Integer(
        60,
        min=0,
        config=True,
        help="How long a login stays paused after too many wrong passwords.",
    ).tag(section="auth")

    minimum_password_length = Integer(
        8,
        min=6,
        config=True,
        help="Shortest password a user may choose when changing theirs.",
    ).tag(section="auth")

    ui_language = Enum(
        ["vi", "en"],
        default_value="vi",
        config=True,
        help="Default JupyterLab language for new users: vi (Tiếng Việt) or en (English). "
        "Each user can switch in JupyterLab's Settings > Language.",
    ).tag(section="ui", key="language")

    mem_limit = ByteSpecification(
        "1G",
        config=True,
        help="Memory limit per student server and its kernels, e.g. 512M, 1G.",
    ).tag(section="limits")

    cpu_limit = Float(
        1.0,
        min=0.1,
        config=True,
        help="CPU cores per student server, e.g. 0.5 or 1.",
    ).tag(section="limits")

    idle_timeout = Integer(
        3600,
        min=0,
        config=True,
        help="Seconds of inactivity before a student's server is stopped (0: never). "
        "Their files are kept.",
    ).tag(section="limits")

    simulated_kits = Integer(
        4,
        min=0,
        config=True,
        help="Simulated kits the kits service serves besides real ones (the embedded default has no "
        "hardware). Set 0 in a lab with real kits.",
    ).tag(section="kits", key="simulated")

    kit_lease_idle = Integer(
        900,
        min=30,
        config=True,
        help="Seconds a leased kit may stay unused before it returns to the pool (and is cleaned).",
    ).tag(section="kits", key="lease_idle")

    grading_notebook_seconds = Integer(
        300,
        min=10,
        config=True,
        help="Seconds one submitted notebook may run while it is graded, all its cells together; a "
        "notebook that runs longer is stopped and scored as it stands. The same for `stemlab grade`, "
        "the teacher's page and the formgrader's Autograde button.",
    ).tag(section="grading", key="notebook_seconds")

    grading_cell_seconds = Integer(
        30,
        min=1,
        config=True,
        help="Seconds one cell of a submitted notebook may run while it is graded before it is interrupted.",
    ).tag(section="grading", key="cell_seconds")

    concurrent_spawns = Integer(
        0,
        min=0,
        config=True,
        help="Servers started at the same time (0: one per CPU core); the rest wait in line, "
        "seeing their place, when a class logs in at once.",
    ).tag(section="limits")

    warm_starts = Bool(
        True,
        config=True,
        help="Fork students' servers and kernels from a warm process that has already imported them "
        "(a class starts in seconds, sharing memory); off: each is a fresh Python.",
    ).tag(section="server")

    warm_answer_seconds = Float(
        30.0,
        min=1.0,
        config=True,
        help="Seconds a start waits for the warm process's answer before starting that server plainly "
        "(the log says why).",
    ).tag(section="server")

    production = Bool(
        False,
        config=True,
        help="Production mode (needs root): one Linux account per user, each server runs as its user "
        "with a private home and enforced limits. Off (demo): all servers run as one account and "
        "students are NOT isolated from each other.",
    ).tag(section="mode")

    home_root = Unicode(
        "/home",
        config=True,
        help="Production mode: the directory under which each user's Linux home is created.",
    ).tag(section="mode")

    @validate("ip")
    def _valid_ip(self, proposal: dict[str, Any]) -> str:
        import ipaddress

        value = proposal["value"]
        try:
            ipaddress.ip_address(value)
        except ValueError as err:
            raise TraitError(f"{value!r} is not an IP address") from err
        return value

    @validate("timezone")
    def _valid_timezone(self, proposal: dict[str, Any]) -> str:
        from hub_config.site.clock import school_zone

        try:
            school_zone(proposal["value"])
        except StemlabError as err:
            raise TraitError(str(err)) from err
        return str(proposal["value"])

    @validate("database_url")
    def _valid_db_url(self, proposal: dict[str, Any]) -> str:
        value = proposal["value"]
        if value and not value.startswith(("sqlite:", "postgresql:", "postgresql+", "mysql")):
            raise TraitError(f"{value!r} is not a database URL")
        return value

    # ---- derived values -------------------------------------------------------------------
    def data_path(self) -> Path:
        return Path(self.data_dir).expanduser().resolve()

    def hub_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_path() / 'jupyterhub.sqlite'}"

    def grading_limits(self) -> Limits:
        """What one submission may use while it is graded, for every way of grading."""
        return Limits(wall_seconds=float(self.grading_notebook_seconds), cell_seconds=float(self.grading_cell_seconds))

    def values(self) -> dict[str, Any]:
        """Every setting by its trait name, as plain data (what the launcher hands the hub)."""
        return {name: getattr(self, name) for name in self.trait_names(config=True)}


def dotted_key(trait_name: str) -> str:
    """The ``section.key`` under which a setting is written in stemlab.toml."""
    meta = SiteSettings.class_traits()[trait_name].metadata
    return f"{meta['section']}.{meta.get('key', trait_name)}"


def setting_keys() -> dict[str, str]:
    """Map each ``section.key`` to its trait name."""
    return {dotted_key(name): name for name in SiteSettings.class_traits(config=True)}


def expected_form(trait_name: str) -> str:
    trait = SiteSettings.class_traits()[trait_name]
    return trait.info()


@dataclass
class LoadedSettings:
    settings: SiteSettings
    sources: dict[str, str] = field(default_factory=dict)
    config_path: Path | None = None


ENV_OVERRIDES = {"STEMLAB_DATA": "data_dir", "STEMLAB_PORT": "port", "STEMLAB_DATABASE_URL": "database_url"}


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as f:
            return tomllib.load(f)
    except tomllib.TOMLDecodeError as err:
        raise SettingsError(f"{path}: không phải TOML hợp lệ ({err}). Hãy sửa dòng được chỉ ra rồi chạy lại.",
                            f"{path}: not valid TOML ({err}). Fix the line named and start again.") from err
    except OSError as err:
        raise SettingsError(f"{path}: không đọc được ({err.strerror}).",
                            f"{path}: cannot be read ({err.strerror}).") from err


def _flatten(path: Path, document: dict[str, Any]) -> dict[str, Any]:
    keys = setting_keys()
    sections = sorted({k.split(".")[0] for k in keys})
    flat: dict[str, Any] = {}
    for section, body in document.items():
        if not isinstance(body, dict):
            raise SettingsError(
                f"{path}: khóa {section!r} ở cấp ngoài cùng không hợp lệ. Các thiết lập phải nằm trong các mục: "
                + ", ".join(f"[{s}]" for s in sections),
                f"{path}: unknown key {section!r} at the top level. Settings live in sections: "
                + ", ".join(f"[{s}]" for s in sections)
            )
        for key, value in body.items():
            dotted = f"{section}.{key}"
            if dotted not in keys:
                near = difflib.get_close_matches(dotted, list(keys), n=1)
                hint = f" Did you mean {near[0]!r}?" if near else ""
                raise SettingsError(
                    f"{path}: không có thiết lập {dotted!r}."
                    + (f" Có phải ý bạn là {near[0]!r}?" if near else ""),
                    f"{path}: unknown setting {dotted!r}.{hint} Known settings: " + ", ".join(sorted(keys))
                )
            flat[keys[dotted]] = value
    return flat


def _coerce_env(trait_name: str, raw: str) -> Any:
    trait = SiteSettings.class_traits()[trait_name]
    return trait.from_string(raw)


def find_config_file(explicit: str | os.PathLike[str] | None) -> Path | None:
    if explicit:
        path = Path(explicit)
        if not path.is_file():
            raise SettingsError(f"Không có tệp cấu hình {path}. Hãy tạo tệp bằng `stemlab config init {path}`.",
                                f"Configuration file {path} does not exist. "
                                f"Create it with `stemlab config init {path}`.")
        return path
    env = os.environ.get("STEMLAB_CONFIG")
    if env:
        return find_config_file(env)
    local = Path(DEFAULT_CONFIG_NAME)
    return local if local.is_file() else None


def load_settings(
    config_file: str | os.PathLike[str] | None = None,
    overrides: dict[str, Any] | None = None,
) -> LoadedSettings:
    """Build the effective settings and remember where each value came from."""
    path = find_config_file(config_file)
    layers: list[tuple[str, dict[str, Any]]] = []
    if path is not None:
        layers.append((f"file {path}", _flatten(path, _read_toml(path))))
    env_layer = {}
    for var, name in ENV_OVERRIDES.items():
        if var in os.environ:
            try:
                env_layer[name] = (_coerce_env(name, os.environ[var]), f"env {var}")
            except (TraitError, ValueError) as err:
                raise SettingsError(f"{var}={os.environ[var]!r}: {err}. Giá trị cần có dạng: {expected_form(name)}.",
                                    f"{var}={os.environ[var]!r}: {err}. Expected {expected_form(name)}.") from err
    cli_layer = {k: v for k, v in (overrides or {}).items() if v is not None}

    settings = SiteSettings()
    sources = {name: "default" for name in SiteSettings.class_traits(config=True)}

    def assign(name: str, value: Any, source: str) -> None:
        try:
            setattr(settings, name, value)
        except TraitError as err:
            raise SettingsError(
                f"{source}: giá trị {value!r} không hợp lệ cho {dotted_key(name)}. "
                f"Giá trị cần có dạng: {expected_form(name)}. ({err})",
                f"{source}: bad value {value!r} for {dotted_key(name)}. Expected {expected_form(name)}. ({err})"
            ) from err
        sources[name] = source

    for source, values in layers:
        for name, value in values.items():
            assign(name, value, source)
    for name, (value, source) in env_layer.items():
        assign(name, value, source)
    for name, value in cli_layer.items():
        assign(name, value, "command line")
    settings.check_together()
    return LoadedSettings(settings, sources, path)


def example_toml() -> str:
    """A commented settings file listing every setting with its help and default."""
    by_section: dict[str, list[str]] = {}
    for name, trait in SiteSettings.class_traits(config=True).items():
        section = trait.metadata["section"]
        default = trait.default_value
        if isinstance(trait, ByteSpecification):
            default = "1G"
        lines = [f"# {trait.help}", f"# {dotted_key(name).split('.', 1)[1]} = {_toml_value(default)}"]
        by_section.setdefault(section, []).extend(lines + [""])
    out = ["# STEM-Lab Hub site settings. Uncomment a line to change it; `stemlab config show` prints the result.", ""]
    for section, lines in by_section.items():
        out.append(f"[{section}]")
        out.extend(lines)
    return "\n".join(out)


def _toml_value(value: Any) -> str:
    import tomli_w

    return tomli_w.dumps({"v": value}).split("=", 1)[1].strip()
