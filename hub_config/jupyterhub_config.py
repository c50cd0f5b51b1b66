"""JupyterHub configuration of a STEM-Lab Hub site.

Started by `stemlab up`, which validated the site settings and wrote them to the runtime file
named by $STEMLAB_RUNTIME. Nothing here is meant to be edited: change the site's stemlab.toml.
"""

import os
import sys
from typing import Any
from pathlib import Path

from hub_config.people import first_codes
from hub_config.people.hub_view import KITS_MANAGE_SCOPE, hub_view
from hub_config.auth import TEMPLATES
from hub_config.site.paths import DataDir
from hub_config.runtime import RUNTIME_ENV, Runtime
from hub_config.teaching.scopes import TEACH_ACCESS_SCOPE, TEACH_OAUTH_SCOPES, TEACH_PREFIX, TEACH_SERVICE

c = get_config()  # type: ignore[name-defined]  # noqa: F821  (injected by JupyterHub)

runtime = Runtime.load(os.environ[RUNTIME_ENV])
site = runtime.settings
data = DataDir(Path(runtime.data_dir))

on_cluster = site.spawner == "kubernetes"
# ---- network: the proxy runs as its own process (started by the launcher), so a hub
# restart drops no student's connection; the hub keeps servers running across restarts.
# On Kubernetes, Zero to JupyterHub's chart sets these (the proxy is its own pod).
if not on_cluster:
    c.JupyterHub.bind_url = runtime.public_url
    c.JupyterHub.hub_ip = "127.0.0.1"
    c.JupyterHub.hub_port = runtime.hub_port
    c.ConfigurableHTTPProxy.should_start = False
    c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{runtime.proxy_api_port}"
    c.ConfigurableHTTPProxy.auth_token = data.secret("proxy_token")
c.JupyterHub.cleanup_servers = False

# ---- storage
c.JupyterHub.db_url = runtime.database_url
c.JupyterHub.cookie_secret_file = str(data.cookie_secret)
data.secret("jupyterhub_cookie_secret")

# ---- accounts, groups and roles (from imported rosters)
accounts = hub_view(runtime.database_url)
c.JupyterHub.authenticator_class = "stemlab"
c.StemlabAuthenticator.first_code_key = data.secret(first_codes.KEY_NAME)
# who may log in: the accounts table, asked per login (auth.py); no allowed_users list of everyone
c.Authenticator.admin_users = accounts.admins
c.Authenticator.allow_all = bool(site.open_signup)
c.NativeAuthenticator.enable_signup = bool(site.open_signup)
c.NativeAuthenticator.open_signup = False
c.NativeAuthenticator.allowed_failed_logins = site.allowed_failed_logins
c.NativeAuthenticator.seconds_before_next_try = site.seconds_before_next_try
c.NativeAuthenticator.minimum_password_length = site.minimum_password_length
c.NativeAuthenticator.check_common_password = True
c.JupyterHub.custom_scopes = {
    KITS_MANAGE_SCOPE: {"description": "Manage the lab's kits: self-tests, take back leases."},
}
launcher_token = data.secret("launcher_token")
c.JupyterHub.load_roles = accounts.roles + [
    {
        "name": "stemlab-launcher",
        "description": "The `stemlab` command: stop the hub cleanly, pre-start a class's servers",
        "scopes": ["shutdown", "admin:servers", "list:users", "read:users", "read:groups", "list:services", "read:services"],
        "services": ["stemlab-launcher"],
    },
]
services: list[dict[str, Any]] = [{"name": "stemlab-launcher", "api_token": launcher_token}]

# ---- student servers: processes of this machine, or pods (hub_config/system/kubernetes.py)
c.JupyterHub.spawner_class = "stemlab"
c.StemlabSpawner.production = bool(site.production)
# Started by root, no user's code runs as root: demo servers run as one unprivileged account.
root_demo = not site.production and os.geteuid() == 0
if root_demo:
    from hub_config.system.linux_accounts import DEMO_ACCOUNT

    c.StemlabSpawner.demo_account = DEMO_ACCOUNT
c.StemlabSpawner.home_root = site.home_root
c.StemlabSpawner.demo_home_template = str(data.homes_dir / "{username}")
c.StemlabSpawner.default_locale = "vi_VN" if site.ui_language == "vi" else "en"
c.Spawner.default_url = "/lab"
# A student opening a bookmarked notebook after their server was culled gets it started again.
c.JupyterHub.implicit_spawn_seconds = 2
c.Spawner.cmd = [sys.executable, "-m", "hub_config.singleuser.server"]
c.StemlabSpawner.concurrent_starts = site.concurrent_spawns
c.StemlabSpawner.warm_starts = bool(site.warm_starts)
c.StemlabSpawner.warm_answer_seconds = site.warm_answer_seconds
c.StemlabSpawner.warm_folder = str(data.warm_dir)
c.Spawner.mem_limit = site.mem_limit
c.Spawner.cpu_limit = site.cpu_limit
c.Spawner.environment = {
    "STEMLAB_SCHOOL": site.school_name,
    "STEMLAB_TIMEZONE": site.timezone,  # the assignments page shows due dates in it
    "STEMLAB_PROVINCE": site.province,
}
if on_cluster:
    from hub_config.system.kubernetes import configure as run_servers_as_pods  # noqa: E402

    run_servers_as_pods(c, site, data)

# ---- kits service: owns the lab's serial ports and leases kits; every user may reach it, and the
# magics in their servers find it here. It runs students' code on simulated kits, so in
# production it runs as its own unprivileged account (see system_accounts.KITS_ACCOUNT).
from hub_config.system.ports import free_port  # noqa: E402
from hub_config.system.linux_accounts import KITS_ACCOUNT  # noqa: E402

kits_service: dict[str, Any] = {
    "name": "stemlab-kits",
    "url": runtime.service_url(free_port()),
    "command": [sys.executable, "-m", "lab_hardware.service", "--data", str(data.root),
                "--simulated", str(site.simulated_kits), "--idle", str(site.kit_lease_idle)],
    # the technicians' page logs in through the hub, and its login carries their kits scope
    "oauth_no_confirm": True,
    "oauth_client_allowed_scopes": [KITS_MANAGE_SCOPE],
}
if site.production or root_demo:
    kits_service["user"] = KITS_ACCOUNT
if not on_cluster:  # on Kubernetes kits stay on lab machines ([kits] service_url, rfc2217://): the
    services.append(kits_service)  # simulated kits run students' code, never in the hub's pod
# Everyone may log in to the kits service and the teacher's page; each says itself who may use it
# (students see a page telling them it is not theirs, in their language, not the hub's bare 403).
c.JupyterHub.load_roles.append({"name": "user", "scopes": ["self", "access:services!service=stemlab-kits",
                                                           TEACH_ACCESS_SCOPE]})
c.Spawner.environment["STEMLAB_KITS_URL"] = site.kits_url()

# ---- the teacher's page: run by `stemlab up` beside the hub (hub_config/teaching/page.py), so a
# reload never cuts a grading batch short; its login token carries the teacher's own scopes only
services.append({
    "name": TEACH_SERVICE,
    "url": runtime.teach_url,
    "api_token": data.secret("teach_token"),
    "oauth_no_confirm": True,
    "oauth_client_allowed_scopes": list(TEACH_OAUTH_SCOPES),
    "display": False,
})
if on_cluster:  # no `stemlab up` beside the hub: the hub starts it
    services[-1].update(command=[sys.executable, "-m", "hub_config.app.staff_service"],
                        environment={RUNTIME_ENV: os.environ[RUNTIME_ENV]})
c.JupyterHub.load_roles.append({"name": TEACH_SERVICE, "scopes": ["list:users", "read:users"],
                                "services": [TEACH_SERVICE]})

# ---- idle culler: stops servers nobody used for idle_timeout seconds; files stay.
if site.idle_timeout > 0:
    services.append(
        {
            "name": "idle-culler",
            "command": [sys.executable, "-m", "jupyterhub_idle_culler", f"--timeout={site.idle_timeout}"],
        }
    )
    c.JupyterHub.load_roles.append(
        {
            "name": "idle-culler",
            "scopes": ["list:users", "read:users:activity", "read:servers", "delete:servers"],
            "services": ["idle-culler"],
        }
    )
# ---- course offerings: a formgrader service per offering, reachable by its graders only
from hub_config.teaching.formgrader_guard import GUARD_ENV, TEACH_URL_ENV  # noqa: E402
from hub_config.teaching.offerings import list_offerings, write_site_nbgrader_config, write_student_config  # noqa: E402

offerings = list_offerings(data)
exchange_url = site.exchange_service_url()
write_site_nbgrader_config(data, site.production, site.grading_limits(), exchange_url)
config_path = str(data.jupyter_config_dir)
c.Spawner.environment["JUPYTER_CONFIG_PATH"] = config_path
write_student_config(data)
c.StemlabSpawner.student_config_path = str(data.student_config_dir)
# nbgrader's assignment list asks the hub for the student's courses with the server's token.
c.JupyterHub.load_roles.append({"name": "server", "scopes": ["inherit"]})
graders_of_classes: list[str] = []
for offering in offerings:
    c.JupyterHub.load_roles += [
        {
            "name": offering.grader_group,
            "groups": [offering.grader_group],
            "scopes": [f"access:services!service={offering.id}", "list:services", f"read:services!service={offering.id}"],
        },
        {
            "name": offering.student_group,
            "groups": [offering.student_group],
            "scopes": ["list:services", f"read:services!service={offering.id}"],
        },
    ]
    formgrader: dict[str, Any] = {
        "name": offering.id,
        "url": runtime.service_url(free_port()),
        "command": [sys.executable, "-m", "hub_config.singleuser.server"],
        "cwd": str(offering.root),
        # The formgrader alone, not a JupyterLab (hub_config/teaching/formgrader_service.py)
        "environment": {"JUPYTERHUB_DEFAULT_URL": "/formgrader",
                        "JUPYTER_CONFIG_PATH": os.pathsep.join([str(data.formgrader_config_dir), config_path])},
        "oauth_no_confirm": True,
        # its token, which `stemlab courses` also gives the offering's exchange steps (teaching/loop.py)
        "api_token": data.secret(offering.grader_token_name),
    }
    if offering.grader:
        # The formgrader runs student code when it autogrades: as the offering's own unprivileged
        # account, which reaches this offering's files and nothing else of the site.
        formgrader["user"] = offering.grader
        # ... which cannot switch to a sandbox account: its Autograde button asks the staff service
        # (root) to grade in the sandbox, with the service's own token (the role below)
        formgrader["environment"][GUARD_ENV] = offering.id
        formgrader["environment"][TEACH_URL_ENV] = runtime.teach_url
        graders_of_classes.append(offering.id)
    elif site.production:
        print(f"stemlab: offering {offering.id} has no grader account (offered in demo mode); "
              f"its formgrader is not started. Run `stemlab courses offer` for it again.", file=sys.stderr)
        continue
    elif os.geteuid() == 0:
        formgrader["command"].append("--allow-root")
    services.append(formgrader)

# ---- the exchange service ([exchange] kind = "service"): nbgrader's exchange kept by the hub, on
# a disk of its own; students' servers and the formgraders reach it with their own tokens
if exchange_url:
    from hub_config.system.linux_accounts import EXCHANGE_ACCOUNT  # noqa: E402
    from hub_config.teaching.scopes import EXCHANGE_ACCESS_SCOPE, EXCHANGE_SERVICE  # noqa: E402

    exchange_service: dict[str, Any] = {
        "name": EXCHANGE_SERVICE,
        "url": runtime.service_url(free_port()),
        "command": [sys.executable, "-m", "hub_config.teaching.exchange_service", "--store",
                    str(data.exchange_store_dir)],
        "display": False,
    }
    if os.geteuid() == 0:
        exchange_service["user"] = EXCHANGE_ACCOUNT
    services.append(exchange_service)
    c.JupyterHub.load_roles += [
        # whose class a login is in: asked of the hub, never of the request
        {"name": EXCHANGE_SERVICE, "scopes": ["read:users:name", "read:users:groups"], "services": [EXCHANGE_SERVICE]},
        {"name": "formgraders-use-the-exchange", "scopes": [EXCHANGE_ACCESS_SCOPE],
         "services": [s["name"] for s in services if s["name"] in {o.id for o in offerings}]},
    ]
    next(r for r in c.JupyterHub.load_roles if r["name"] == "user")["scopes"].append(EXCHANGE_ACCESS_SCOPE)
# A province's monitoring server (Prometheus) reads /hub/metrics with this service's token
# (var/secrets/monitoring_token): it may read the metrics and nothing else.
services.append({"name": "stemlab-monitoring", "api_token": data.secret("monitoring_token")})
c.JupyterHub.load_roles.append({"name": "stemlab-monitoring", "scopes": ["read:metrics"],
                                "services": ["stemlab-monitoring"]})
c.JupyterHub.services = services
if graders_of_classes:  # production formgraders may ask the staff service to grade (formgrader_grading.py)
    c.JupyterHub.load_roles.append({"name": "formgrader-grades-through-staff-service", "scopes": [TEACH_ACCESS_SCOPE],
                                    "services": graders_of_classes})

# ---- pages
demo_warning = (
    "Chế độ thử nghiệm (demo): học sinh KHÔNG được tách biệt với nhau; không dùng cho lớp học thật. "
    "/ Demo mode: students are NOT isolated from each other; do not use it for real classes."
)
c.JupyterHub.template_paths = [str(TEMPLATES)]
c.JupyterHub.template_vars = {
    "stemlab_school": site.school_name,
    "stemlab_province": site.province,
    "announcement": "" if site.production or on_cluster else demo_warning,
    # the hub's pages show each person's own links (teacher's page, kits) and their accented name
    "stemlab_role": lambda user: accounts.role_of.get(user.name) if user else None,
    "stemlab_display_name": lambda user: accounts.display_names.get(user.name) if user else None,
    "stemlab_min_password": site.minimum_password_length,
    "stemlab_teach_url": TEACH_PREFIX,
}
c.JupyterHub.log_level = "INFO"
