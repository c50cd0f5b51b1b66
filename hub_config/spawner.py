"""How a student's server is started.

Demo mode: every server runs under one account, each in its own home under the data directory:
convenient, and NOT isolated (said on every page). Started by root, that account is the
unprivileged `stemlab-demo`, never root itself, so no server reads what the site keeps closed
(course sources, gradebooks, password sheets, secrets). Production mode: each server runs as the
student's own Linux account (LocalProcessSpawner's setuid) with a private home.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any, ClassVar

from jupyterhub.spawner import LocalProcessSpawner
from jupyterhub.utils import maybe_future, random_port
from tornado import web
from sqlalchemy import select
from traitlets import Any as AnyTrait, Bool, Float, Integer, Unicode, default

from hub_config.people.accounts import Account
from hub_config.people.roles import Role
from hub_config.system.limits import CgroupLimiter, ServerCgroup
from hub_config.spawn_queue import SpawnQueue
from hub_config.system.linux_accounts import ensure_linux_account
from hub_config.system.ports import ServerPorts
from hub_config.server_identity import ServerIdentity, ServerIdentityFailed
from hub_config.warm.forkserver import REQUEST_TIMEOUT, WarmStartFailed
from hub_config.warm.server_child import is_our_server
from hub_config.warm.starter import WarmServers

def is_student(user: Any) -> bool:
    """Students' servers get the student's JupyterLab (no nbgrader authoring tools). Asked of the
    accounts table, in the hub's own session: a config set of a province's 100,000 student logins
    was deep-copied into every new spawner (40 ms at each login)."""
    role = user.db.scalar(select(Account.role).where(Account.login == user.name))
    return bool(role == Role.STUDENT)


def access_scopes_with_class(user: Any, server_name: str) -> list[str]:
    """Who may open a server: its owner, and the teachers of the owner's classes. Teachers hold
    access:servers!group=<class>. The single-user server cannot resolve a group filter to its owner
    by itself, so it must name its class groups as accepted scopes."""
    scopes = [f"access:servers!server={user.name}/{server_name}", f"access:servers!user={user.name}"]
    scopes += [f"access:servers!group={g.name}" for g in user.groups if g.name.startswith("class-")]
    return scopes


class ServerStartError(web.HTTPError):
    """A server could not start for a reason the student should be told (in both languages).

    An HTTPError passes through JupyterHub's spawn page with its own status (503, not a bare
    500), and `jupyterhub_message` is what JupyterHub shows on the spawn and "not running" pages.
    """

    def __init__(self, message: str):
        super().__init__(503, message.replace("%", "%%"))
        self.jupyterhub_message = message


class StemlabSpawner(LocalProcessSpawner):
    production = Bool(
        False,
        config=True,
        help="Run each server as the user's own Linux account (needs root). Off: demo mode, no isolation.",
    )
    demo_home_template = Unicode(
        "/tmp/stemlab-homes/{username}",
        config=True,
        help="Home directory of each user in demo mode.",
    )
    demo_account = Unicode(
        "",
        config=True,
        help="Demo mode started by root: the unprivileged Linux account every server runs as "
        "(empty: the hub's own account, for a demo run by an ordinary user).",
    )
    home_root = Unicode(
        "/home",
        config=True,
        help="Production mode: where the homes of new Linux accounts are created.",
    )
    default_locale = Unicode(
        "vi_VN",
        config=True,
        help="JupyterLab language given to a user on their first start: vi_VN or en.",
    )

    @property
    def is_student(self) -> bool:
        return is_student(self.user)

    student_config_path = Unicode(
        "",
        config=True,
        help="A Jupyter config folder put first on JUPYTER_CONFIG_PATH of students' servers.",
    )

    @default("oauth_access_scopes")
    def _access_scopes_with_class(self) -> list[str]:
        return access_scopes_with_class(self.user, self.name)

    @property
    def home_dir(self) -> Path:
        if self.production:
            import pwd

            return Path(pwd.getpwnam(self.user.name).pw_dir)
        return Path(self.demo_home_template.format(username=self.user.name))

    concurrent_starts = Integer(
        0,
        min=0,
        config=True,
        help="Servers started at the same time (0: one per CPU core); the rest wait in line.",
    )

    warm_starts = Bool(
        True,
        config=True,
        help="Fork servers and kernels from a warm process that has imported them (hub_config/warm); "
        "off: every server and kernel is a fresh Python.",
    )
    warm_folder = Unicode("", config=True, help="The warm process's folder (DataDir.warm_dir).")
    warm_answer_seconds = Float(REQUEST_TIMEOUT, config=True,
                                help="Seconds to wait for the warm process's answer before a plain start.")

    # a Popen (plain start) or the ForkedProcess a warm start hands over (the same calls)
    proc = AnyTrait(None, allow_none=True)

    _cgroup: ServerCgroup | None = None
    _picked_port = 0
    _queue: ClassVar[SpawnQueue | None] = None  # one line per hub process
    _warm: ClassVar[WarmServers | None] = None  # one warm process per hub process
    _ports: ClassVar[ServerPorts] = ServerPorts()

    @classmethod
    def warm_up(cls, config: Any, log: Any) -> None:
        """At the hub's start (hub_app.StemlabHub): start the warm process, if warm starts are on."""
        ours = config.StemlabSpawner
        if ours.get("warm_starts", True) and ours.get("warm_folder"):
            try:
                cls._shared_warm(str(ours.warm_folder)).ensure_running()
            except WarmStartFailed as err:
                log.warning("Servers will start plainly, not warm: %s", err)

    @classmethod
    def _shared_warm(cls, folder: str) -> WarmServers:
        if StemlabSpawner._warm is None:
            StemlabSpawner._warm = WarmServers(Path(folder))
        return StemlabSpawner._warm

    def warm_servers(self) -> WarmServers | None:
        return self._shared_warm(self.warm_folder) if self.warm_starts and self.warm_folder else None

    def _spawn_queue(self) -> SpawnQueue:
        if StemlabSpawner._queue is None:
            StemlabSpawner._queue = SpawnQueue(self.concurrent_starts or os.cpu_count() or 1)
        return StemlabSpawner._queue

    @property
    def _queue_key(self) -> str:
        return f"{self.user.name}/{self.name}"

    def run_pre_spawn_hook(self) -> Awaitable[None]:
        # JupyterHub awaits this before its start timeout begins: the right place to wait in line.
        async def wait_then_hook() -> None:
            await self._spawn_queue().acquire(self._queue_key)
            try:
                await maybe_future(super(StemlabSpawner, self).run_pre_spawn_hook())
            except BaseException:
                self._spawn_queue().release(self._queue_key)
                raise

        return wait_then_hook()

    async def start(self) -> tuple[str, int]:
        try:
            if self.production:
                loop = asyncio.get_running_loop()
                await loop.run_in_executor(None, ensure_linux_account, self.user.name, Path(self.home_root))
                self._cgroup = await loop.run_in_executor(None, self._create_cgroup)
            else:
                self._ensure_demo_home()
            if self.port in (0, self._picked_port):  # type: ignore[has-type]  # a site's fixed port is kept
                self.port = self._picked_port = StemlabSpawner._ports.take(self.ip)
            ip, port = await self._start_process()
            await self._until_listening(ip, port)
            return ip, port
        finally:
            # The place in line is held until the server answers: that is where the CPU goes.
            self._spawn_queue().release(self._queue_key)

    async def _start_process(self) -> tuple[str, int]:
        warm = self.warm_servers()
        why_plain = self._why_not_warm() if warm is not None else None
        if warm is not None and why_plain is None:
            try:
                return await self._start_warm(warm)
            except WarmStartFailed as err:
                why_plain = str(err)
        if why_plain:
            self.log.warning("The server of %s starts plainly, not warm: %s", self.user.name, why_plain)
        return await super().start()

    def _why_not_warm(self) -> str | None:
        if self.shell_cmd or self.popen_kwargs:
            return "the site sets shell_cmd or popen_kwargs, which only a plain start applies"
        if not is_our_server(self.cmd):
            return f"the server command {self.cmd[:3]} is not the single-user server the warm process holds"
        return None

    async def _start_warm(self, warm: WarmServers) -> tuple[str, int]:
        port = int(self.port)
        if port == 0:
            self.port = port = random_port()
        env = self.get_env()
        cmd = [*self.cmd, *self.get_args()]
        loop = asyncio.get_running_loop()
        identity = await loop.run_in_executor(None, self.server_identity().resolved)
        self.log.info("Starting the server of %s from the warm process", self.user.name)
        process = await loop.run_in_executor(None, warm.start_server, identity, cmd, env, self.warm_answer_seconds)
        self.pid = process.pid
        self.proc = process
        return self.ip or "127.0.0.1", port

    def _ensure_demo_home(self) -> None:
        try:
            self.home_dir.mkdir(parents=True, exist_ok=True)
            if self.demo_account:
                import pwd

                entry = pwd.getpwnam(self.demo_account)
                os.chown(self.home_dir, entry.pw_uid, entry.pw_gid)
                self.home_dir.chmod(0o700)
        except OSError as err:
            self.log.error("Cannot create the home of %s at %s: %s", self.user.name, self.home_dir, err)
            raise ServerStartError(
                f"Không tạo được thư mục làm việc của bạn ({err.strerror}): hãy báo thầy cô hoặc quản trị viên. "
                f"/ Your working folder could not be created ({err.strerror}): tell your teacher or the admin."
            ) from err

    async def _until_listening(self, ip: str, port: int) -> None:
        while True:
            if self.proc is not None and self.proc.poll() is not None:
                return  # it died: JupyterHub reports the exit code
            try:
                _, writer = await asyncio.open_connection(ip or "127.0.0.1", port)
                writer.close()
                return
            except OSError:
                await asyncio.sleep(0.1)

    async def progress(self) -> AsyncIterator[dict[str, Any]]:
        queue = self._spawn_queue()
        last = None
        while (place := queue.position(self._queue_key)) is not None:
            if place != last:
                last = place
                yield {
                    "progress": 10,
                    "message": f"Đang xếp hàng chờ khởi động: bạn đứng thứ {place} (có {queue.waiting} người đang chờ). "
                    f"/ Waiting in line to start: you are number {place} of {queue.waiting}.",
                }
            await asyncio.sleep(0.5)
        yield {"progress": 50, "message": "Đang khởi động máy chủ của bạn… / Starting your server…"}

    def _cgroup_name(self) -> str:
        return f"{self.user.name}-{self.name}" if self.name else self.user.name

    def _create_cgroup(self) -> ServerCgroup:
        limiter = CgroupLimiter()
        limiter.existing(self._cgroup_name()).remove()  # leftovers of a server that died
        return limiter.create(self._cgroup_name(), self.mem_limit, self.cpu_limit)

    async def stop(self, now: bool = False) -> None:
        self._spawn_queue().release(self._queue_key)
        await super().stop(now=now)
        StemlabSpawner._ports.give_back(self._picked_port)
        if self.production:
            group = self._cgroup or CgroupLimiter().existing(self._cgroup_name())
            # Kernels and anything a student left running die with the server.
            await asyncio.get_running_loop().run_in_executor(None, group.remove)
            self._cgroup = None

    def server_identity(self) -> ServerIdentity:
        locale, student = self.default_locale, self.is_student
        if self.production:
            dirs = tuple(str(d) for d in self._cgroup.dirs) if self._cgroup is not None else ()
            return ServerIdentity(self.user.name, str(self.home_dir), locale, student,
                                  account=self.user.name, own_account=True, cgroup_dirs=dirs)
        return ServerIdentity(self.user.name, str(self.home_dir), locale, student, account=self.demo_account or None)

    def make_preexec_fn(self, name: str) -> Callable[[], None]:
        identity = self.server_identity().resolved()

        def preexec() -> None:
            try:
                identity.apply()
            except ServerIdentityFailed as err:
                # subprocess only reports "Exception occurred in preexec_fn"; say which step.
                os.write(2, f"{err}\n".encode())
                raise

        return preexec

    def user_env(self, env: dict[str, str]) -> dict[str, str]:
        if self.production:
            return super().user_env(env)
        env["USER"] = self.user.name
        env["HOME"] = str(self.home_dir)
        env["SHELL"] = "/bin/bash"
        return env

    def get_env(self) -> dict[str, str]:
        env = super().get_env()
        if self.student_config_path and self.is_student:
            env["JUPYTER_CONFIG_PATH"] = os.pathsep.join(
                p for p in (self.student_config_path, env.get("JUPYTER_CONFIG_PATH")) if p)
        return env

    def get_args(self) -> list[str]:
        args = super().get_args()
        if not self.production and not self.demo_account and os.geteuid() == 0:
            # Only a hub configured by hand gets here (stemlab up as root sets a demo account):
            # servers share the hub's root account, so Jupyter must be told.
            args.append("--allow-root")
        return args
