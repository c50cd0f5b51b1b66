"""Who may use which kit: the leases of the kits service, as a small state machine.

A kit is FREE, LEASED (one user holds it), BUSY (its holder's program runs on it) or FAULTY (it
could not be asked or cleaned: nobody gets it until it is fixed). A lease is taken (a named kit,
or any free one), renewed by every use, given back by its holder, taken back by a teacher or
technician, or ends after `idle_seconds` unused. What goes wrong is a typed error saying what to
do; the kits service only maps each to an HTTP status (lab_hardware/service.py).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum

from .errors import KitError
from .inventory import Kit
from .transport import KitConnection


class KitState(Enum):
    FREE = "free"
    LEASED = "leased"
    BUSY = "busy"
    FAULTY = "faulty"


class LeaseError(KitError):
    """A lease cannot be taken, used or ended as asked."""


class UnknownKit(LeaseError):
    def __init__(self, name: str):
        super().__init__(f"Không có kit {name}: xem danh sách bằng %kit list.", f"No kit {name}: see %kit list.")


class KitTaken(LeaseError):
    def __init__(self, name: str):
        super().__init__(f"{name} đang có bạn khác dùng: chọn kit khác (%kit list) hoặc nhờ thầy cô.",
                         f"{name} is in use by someone else: choose another kit (%kit list) or ask your teacher.")


class NoKitFree(LeaseError):
    def __init__(self) -> None:
        super().__init__("Hết kit trống: chờ một bạn trả kit, hoặc nhờ thầy cô.",
                         "No kit is free: wait for one to be given back, or ask your teacher.")


class NotYourKit(LeaseError):
    def __init__(self, name: str):
        super().__init__(f"{name} không phải kit bạn đang mượn: mượn nó trước (%kit connect {name}).",
                         f"{name} is not leased to you: take it first (%kit connect {name}).")


class KitFaulty(LeaseError):
    def __init__(self, name: str, problem: str):
        super().__init__(f"{name} đang hỏng ({problem}): chọn kit khác, và báo kỹ thuật viên.",
                         f"{name} is out of order ({problem}): choose another kit and tell the lab technician.")


@dataclass
class Lease:
    holder: str
    since: float
    last_used: float


@dataclass
class ManagedKit:
    kit: Kit
    model: str = "?"
    lease: Lease | None = None
    link: KitConnection | None = None
    baseline: set[str] = field(default_factory=set)   # files on the board before any user
    problem: str | None = None                        # why it is FAULTY
    lock: threading.Lock = field(default_factory=threading.Lock)  # one board operation at a time

    @property
    def name(self) -> str:
        return self.kit.name

    @property
    def state(self) -> KitState:
        if self.problem:
            return KitState.FAULTY
        if self.lease is None:
            return KitState.FREE
        return KitState.BUSY if self.lock.locked() else KitState.LEASED

    def connect(self) -> KitConnection:
        if self.link is None:
            self.link = KitConnection.open(self.kit.url, timeout=3.0)
        return self.link

    def drop_link(self) -> None:
        if self.link:
            try:
                self.link.close()
            except KitError:
                pass
        self.link = None


class Leases:
    """The lease policy over the lab's kits; `clock` is injectable so expiry is testable."""

    def __init__(self, kits: list[ManagedKit], idle_seconds: float, clock: Callable[[], float] = time.time):
        self.kits = {k.name: k for k in kits}
        self.idle_seconds = idle_seconds
        self.clock = clock

    def get(self, name: str) -> ManagedKit:
        try:
            return self.kits[name]
        except KeyError:
            raise UnknownKit(name) from None

    def take(self, name: str, user: str, manager: bool = False) -> ManagedKit:
        """Take or renew the lease of a kit; the name `any` takes the kit the user holds, or the first free one."""
        if name == "any":
            mine = [k for k in self.kits.values() if k.lease and k.lease.holder == user]
            free = [k for k in self.kits.values() if k.state is KitState.FREE]
            if not (mine or free):
                raise NoKitFree()
            managed = (mine or free)[0]
        else:
            managed = self.get(name)
        if managed.lease and managed.lease.holder != user:
            raise KitTaken(managed.name)
        if managed.lease is None and managed.problem and not manager:  # a technician may take it to look
            raise KitFaulty(managed.name, managed.problem)
        now = self.clock()
        managed.lease = managed.lease or Lease(user, now, now)
        managed.lease.last_used = now
        return managed

    def held(self, name: str, user: str) -> ManagedKit:
        """The kit, if `user` holds its lease; each use renews it."""
        managed = self.get(name)
        if not managed.lease or managed.lease.holder != user:
            raise NotYourKit(managed.name)
        managed.lease.last_used = self.clock()
        return managed

    def used(self, managed: ManagedKit) -> None:
        """A program ended: renew the lease, if it has not ended meanwhile."""
        if managed.lease is not None:
            managed.lease.last_used = self.clock()

    def end(self, name: str, user: str, manager: bool) -> ManagedKit | None:
        """Give the kit back (its holder) or take it back (a manager); returns the kit to clean,
        or None when it was not leased."""
        managed = self.get(name)
        if managed.lease is None:
            return None
        if managed.lease.holder != user and not manager:
            raise NotYourKit(managed.name)
        managed.lease = None
        return managed

    def expire(self) -> list[ManagedKit]:
        """End every lease unused for longer than `idle_seconds`; returns the kits to clean."""
        now = self.clock()
        ended = []
        for managed in self.kits.values():
            if managed.lease and now - managed.lease.last_used > self.idle_seconds:
                managed.lease = None
                ended.append(managed)
        return ended

    def expires_in(self, managed: ManagedKit) -> int | None:
        if managed.lease is None:
            return None
        return round(self.idle_seconds - (self.clock() - managed.lease.last_used))
