"""`stemlab up`: run the proxy and the hub in the foreground and stop them cleanly.

The proxy is its own process so the hub can be restarted (after a roster import, or if it
crashes) without dropping anyone's connection or kernel. On Ctrl-C or SIGTERM the launcher asks
the hub to stop every server, waits for it, then stops the proxy.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import psutil
import requests

from hub_config.app.instance import Holder, PlatformLock
from hub_config.app.preparation import PROJECT_ROOT, find_proxy, prepare_production, prepare_root_demo
from hub_config.operations.daily import DailyBackups
from hub_config.site.errors import LaunchError
from hub_config.site.paths import DataDir
from hub_config.runtime import RUNTIME_ENV, Runtime
from hub_config.teaching.scopes import TEACH_ACCESS_SCOPE, TEACH_OAUTH_SCOPES, TEACH_PREFIX, TEACH_SERVICE
from hub_config.site.settings import SiteSettings
from hub_config.system.ports import check_port_free, free_port
from hub_config.warm.server_child import reports_to
from autograders.processes import end_processes, with_descendants

HUB_CONFIG = Path(__file__).resolve().parents[1] / "jupyterhub_config.py"


class Launcher:
    def __init__(self, settings: SiteSettings, say: Callable[[str], None] = print):
        self.settings = settings
        self.say = say
        self.data = DataDir(settings.data_path()).ensure()
        self.lock = PlatformLock(self.data)
        self.proxy: subprocess.Popen[bytes] | None = None
        self.hub: subprocess.Popen[bytes] | None = None
        self.teach: subprocess.Popen[bytes] | None = None
        self.runtime: Runtime | None = None
        self._stopping = False
        self._reload = False
        # Services the hub started (idle culler): they outlive a hub that crashed, and the next
        # hub starts its own, so the launcher must stop the old ones itself.
        self._hub_services: list[psutil.Process] = []
        self.daily_backups = DailyBackups(settings, self.data, say)

    # ---- start ---------------------------------------------------------------------------
    def claim(self) -> None:
        """Take the data directory before touching anything in it; a second platform on it is refused."""
        s = self.settings
        self.lock.acquire(Holder(pid=os.getpid(), url=f"http://{s.ip}:{s.port}", data_dir=str(self.data.root)))

    def start(self) -> Runtime:
        s = self.settings
        self.claim()
        check_port_free(s.ip, s.port)
        proxy_cmd = find_proxy()
        if s.production:
            prepare_production(self.settings, self.data)
        elif os.geteuid() == 0:
            prepare_root_demo(self.data)
        if s.exchange == "service" and os.geteuid() == 0:
            from hub_config.system.linux_accounts import ensure_exchange_account

            ensure_exchange_account(self.data.exchange_store_dir)
        self.runtime = Runtime(
            settings=s,
            data_dir=str(self.data.root),
            database_url=s.hub_database_url(),
            hub_port=free_port(),
            proxy_api_port=free_port(),
            project_root=str(PROJECT_ROOT),
            teach_port=free_port(),
        )
        runtime_file = self.data.run_dir / "runtime.json"
        self.runtime.save(runtime_file)
        self._start_proxy(proxy_cmd)
        self._start_teach()  # before the hub, which waits for its external services at start
        self._start_hub()
        self._wait_ready()
        self._write_state()
        return self.runtime

    def _start_proxy(self, proxy_cmd: str) -> None:
        assert self.runtime
        r, s = self.runtime, self.settings
        env = dict(os.environ, CONFIGPROXY_AUTH_TOKEN=self.data.secret("proxy_token"))
        hub = f"http://127.0.0.1:{r.hub_port}"
        log = (self.data.logs_dir / "proxy.log").open("ab")
        self.proxy = subprocess.Popen(
            [
                proxy_cmd,
                "--ip", s.ip, "--port", str(s.port),
                "--api-ip", "127.0.0.1", "--api-port", str(r.proxy_api_port),
                "--default-target", hub,
                "--error-target", f"{hub}/hub/error",
                "--log-level", "warn",
            ],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # our signal handler decides when it stops
        )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.proxy.poll() is not None:
                raise LaunchError(
                    f"Proxy dừng ngay khi khởi động (mã {self.proxy.returncode}); "
                    f"xem {self.data.logs_dir / 'proxy.log'}",
                    f"The proxy exited at start (code {self.proxy.returncode}); see {self.data.logs_dir / 'proxy.log'}"
                )
            try:
                with socket.create_connection(("127.0.0.1", r.proxy_api_port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.1)
        raise LaunchError(f"Proxy không mở cổng API trong vòng 20 giây; xem {self.data.logs_dir / 'proxy.log'}",
                          f"The proxy did not open its API port in 20 s; see {self.data.logs_dir / 'proxy.log'}")

    def _start_hub(self) -> None:
        env = dict(os.environ, **{RUNTIME_ENV: str(self.data.run_dir / "runtime.json")})
        log = (self.data.logs_dir / "hub.log").open("ab")
        self.hub = subprocess.Popen(
            [sys.executable, "-m", "hub_config.app.hub_app", "-f", str(HUB_CONFIG)],
            cwd=self.data.root,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def _start_teach(self) -> None:
        """The teacher's page runs beside the hub, as the proxy does: a hub reload (a roster import, a
        new offering) must not cut a grading batch short. It is the hub service `stemlab-teach`
        (hub_config/jupyterhub_config.py) and gets what the hub gives a service it starts itself."""
        assert self.runtime
        r = self.runtime
        env = dict(os.environ, **{
            RUNTIME_ENV: str(self.data.run_dir / "runtime.json"),
            "JUPYTERHUB_SERVICE_NAME": TEACH_SERVICE,
            "JUPYTERHUB_API_TOKEN": self.data.secret("teach_token"),
            "JUPYTERHUB_CLIENT_ID": f"service-{TEACH_SERVICE}",
            "JUPYTERHUB_API_URL": r.hub_api_url,
            "JUPYTERHUB_BASE_URL": "/",
            "JUPYTERHUB_SERVICE_PREFIX": TEACH_PREFIX,
            "JUPYTERHUB_SERVICE_URL": r.teach_url,
            "JUPYTERHUB_OAUTH_CALLBACK_URL": f"{TEACH_PREFIX}oauth_callback",
            "JUPYTERHUB_OAUTH_ACCESS_SCOPES": json.dumps([TEACH_ACCESS_SCOPE]),
            "JUPYTERHUB_OAUTH_SCOPES": json.dumps([TEACH_ACCESS_SCOPE]),
            "JUPYTERHUB_OAUTH_CLIENT_ALLOWED_SCOPES": json.dumps(list(TEACH_OAUTH_SCOPES)),
        })
        log = (self.data.logs_dir / "teach.log").open("ab")
        self.teach = subprocess.Popen([sys.executable, "-m", "hub_config.app.staff_service"], cwd=self.data.root,
                                      env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)

    def _wait_ready(self, timeout: float = 90) -> None:
        assert self.runtime and self.hub
        url = f"{self.runtime.public_url}/hub/health"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.hub.poll() is not None:
                raise LaunchError(
                    f"Hub dừng khi đang khởi động (mã {self.hub.returncode}). Các dòng cuối của nhật ký ở dưới.",
                    f"The hub stopped while starting (code {self.hub.returncode}). Last lines of its log:\n"
                    + self.log_tail("hub.log")
                )
            try:
                # ready once the hub answers and has routed its services through the proxy (the
                # teacher's page answers with a redirect to the login, not with the hub's 404)
                if requests.get(url, timeout=2).status_code == 200 and "/oauth2/authorize" in requests.get(
                        f"{self.runtime.public_url}{TEACH_PREFIX}", timeout=2,
                        allow_redirects=False).headers.get("Location", ""):
                    return
            except requests.RequestException:
                pass
            time.sleep(0.2)
        raise LaunchError(
            f"Hub không phản hồi trong vòng {timeout:.0f} giây. Các dòng cuối của nhật ký ở dưới.",
            f"The hub did not answer in {timeout:.0f} s. Last lines of its log:\n" + self.log_tail("hub.log"),
        )

    def log_tail(self, name: str, lines: int = 20) -> str:
        path = self.data.logs_dir / name
        try:
            return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return f"(no log at {path})"

    def _write_state(self) -> None:
        assert self.runtime and self.hub and self.proxy
        state = {"launcher_pid": os.getpid(), "hub_pid": self.hub.pid, "proxy_pid": self.proxy.pid, **self.runtime.as_json()}
        self.data.launcher_state.write_text(json.dumps(state, indent=2, ensure_ascii=False))

    # ---- supervise -----------------------------------------------------------------------
    def install_signal_handlers(self) -> None:
        signal.signal(signal.SIGINT, self._on_stop)
        signal.signal(signal.SIGTERM, self._on_stop)
        signal.signal(signal.SIGHUP, self._on_reload)

    def _on_stop(self, signum: int, frame: object) -> None:
        self._stopping = True

    def _on_reload(self, signum: int, frame: object) -> None:
        self._reload = True

    def supervise(self) -> None:
        """Keep the hub running until asked to stop; restart it on reload or crash."""
        assert self.hub and self.proxy
        ticks = 0
        while not self._stopping:
            time.sleep(0.2)
            ticks += 1
            if ticks % 10 == 1:
                self._remember_hub_services()
                self.daily_backups.tick()
            if self.teach and self.teach.poll() is not None and not self._stopping:
                self.say(f"The teacher's page stopped (code {self.teach.returncode}); restarting it. "
                         f"Log: {self.data.logs_dir / 'teach.log'}")
                self._start_teach()
            if self.proxy.poll() is not None:
                self.say(f"Proxy stopped unexpectedly (code {self.proxy.returncode}); see {self.data.logs_dir / 'proxy.log'}")
                self._stopping = True
                break
            if self._reload:
                self._reload = False
                self.say("Nạp lại cấu hình: khởi động lại hub (máy chủ của học sinh vẫn chạy). / Reloading: restarting the hub; student servers keep running.")
                self._stop_hub(stop_servers=False)
            if self.hub.poll() is not None and not self._stopping:
                if self.hub.returncode not in (0, -signal.SIGTERM):
                    self.say(f"Hub exited (code {self.hub.returncode}); restarting it. Log: {self.data.logs_dir / 'hub.log'}")
                self._stop_orphaned_services()
                self._start_hub()
                try:
                    self._wait_ready()
                except LaunchError as err:
                    self.say(str(err))
                    self._stopping = True
                self._write_state()
        self.stop()

    def _remember_hub_services(self) -> None:
        if not self.hub or self.hub.poll() is not None:
            return
        try:
            children = psutil.Process(self.hub.pid).children()
        except psutil.NoSuchProcess:
            return
        services = []
        for child in children:
            try:
                # JupyterHub gives managed services (not user servers) their name in the env.
                if "JUPYTERHUB_SERVICE_NAME" in child.environ():
                    services.append(child)
            except psutil.Error:
                continue
        self._hub_services = services

    def _stop_orphaned_services(self) -> None:
        services = self._hub_services
        end_processes(lambda: [p for p in services if p.is_running()])  # is_running also checks pid reuse
        self._hub_services = []

    # ---- stop ----------------------------------------------------------------------------
    def _stop_leftover_servers(self) -> None:
        """A hub stopped before it could stop every server (a stop that arrives while it is
        restarting, a server slow to exit under load) leaves servers and kernels behind: find
        them by the hub they report to, and end them with everything they started."""
        if not self.runtime:
            return
        ours = self.runtime.hub_api_url

        def leftovers() -> list[psutil.Process]:
            found = []
            for p in psutil.process_iter(["pid"]):
                try:
                    if reports_to(p.cmdline(), p.environ(), ours):
                        found.append(p)
                except psutil.Error:
                    continue
            return with_descendants(found)

        end_processes(leftovers)

    def _stop_hub(self, stop_servers: bool) -> None:
        if not self.hub or self.hub.poll() is not None:
            return
        if stop_servers and self.runtime:
            token = self.data.secret("launcher_token")
            try:
                requests.post(
                    f"{self.runtime.hub_api_url}/shutdown",
                    json={"servers": True, "proxy": False},
                    headers={"Authorization": f"token {token}"},
                    timeout=10,
                )
            except requests.RequestException:
                self.hub.terminate()
        else:
            self.hub.terminate()
        try:
            self.hub.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.hub.kill()
            self.hub.wait()

    def stop(self) -> None:
        if not self.lock.held:
            return  # refused to start: everything in the data directory belongs to the one running
        if self.teach and self.teach.poll() is None:
            self.teach.terminate()  # a grading batch it runs ends with it (its sandboxes are cleaned up)
            try:
                self.teach.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.teach.kill()
        self._stop_hub(stop_servers=True)
        self._stop_leftover_servers()
        if self.proxy and self.proxy.poll() is None:
            self.proxy.terminate()
            try:
                self.proxy.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proxy.kill()
        self.data.launcher_state.unlink(missing_ok=True)
        self.lock.release()


def running_launcher(data: DataDir) -> dict | None:
    """The state of a `stemlab up` running on this data directory, if any."""
    try:
        state = json.loads(data.launcher_state.read_text())
        os.kill(state["launcher_pid"], 0)
        return state
    except (OSError, ValueError, KeyError):
        return None


def running_settings(data: DataDir) -> SiteSettings | None:
    """The settings the `stemlab up` running on this data directory started with, if any: what a
    command writes for the running hub's servers must be what the hub itself wrote (its port)."""
    state = running_launcher(data)
    return SiteSettings(**state["settings"]) if state else None


def reload_running_hub(data: DataDir) -> bool:
    """Ask the `stemlab up` running on this data directory, if any, to restart its hub so it reads
    new accounts, groups, roles and offerings (students' servers keep running)."""
    state = running_launcher(data)
    if state is None:
        return False
    os.kill(state["launcher_pid"], signal.SIGHUP)
    return True
