"""The kits service's leases as a state machine (lab_hardware/leases.py): free, leased, busy and
faulty kits, and the typed errors a student or teacher meets, each saying what to do."""

from __future__ import annotations

import pytest

from lab_hardware.inventory import Kit
from lab_hardware.leases import (KitFaulty, KitState, KitTaken, Leases, ManagedKit, NoKitFree, NotYourKit,
                                 UnknownKit)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def lab(count: int = 2, idle: float = 60) -> tuple[Leases, Clock]:
    clock = Clock()
    kits = [ManagedKit(Kit(f"/dev/pts/{n}", f"sim:{n}", f"Kit 0{n}", kind="simulated")) for n in range(1, count + 1)]
    return Leases(kits, idle, clock), clock


def test_a_kit_goes_from_free_to_leased_to_busy_and_back():
    leases, _ = lab()
    kit = leases.get("Kit 01")
    assert kit.state is KitState.FREE
    assert leases.take("Kit 01", "hs-an") is kit and kit.state is KitState.LEASED
    with kit.lock:  # the holder's program runs
        assert kit.state is KitState.BUSY
    assert kit.state is KitState.LEASED
    assert leases.end("Kit 01", "hs-an", manager=False) is kit and kit.state is KitState.FREE
    assert leases.end("Kit 01", "hs-an", manager=False) is None, "ending a free kit's lease is nothing to clean"


def test_someone_elses_kit_is_taken_and_not_yours():
    leases, _ = lab()
    leases.take("Kit 01", "hs-an")
    with pytest.raises(KitTaken) as taken:
        leases.take("Kit 01", "hs-binh")
    assert "%kit list" in taken.value.en and "%kit list" in taken.value.vi
    with pytest.raises(NotYourKit):
        leases.held("Kit 01", "hs-binh")
    with pytest.raises(NotYourKit):
        leases.end("Kit 01", "hs-binh", manager=False)
    assert leases.end("Kit 01", "gv-cuong", manager=True) is not None, "a teacher takes a kit back"


def test_any_gives_the_kit_you_hold_or_the_first_free_one_until_none_is_free():
    leases, _ = lab(count=2)
    first = leases.take("any", "hs-an")
    assert leases.take("any", "hs-an") is first, "asking again keeps the same kit"
    second = leases.take("any", "hs-binh")
    assert second is not first
    with pytest.raises(NoKitFree) as none:
        leases.take("any", "hs-chi")
    assert none.value.vi.startswith("Hết kit trống")


def test_a_faulty_kit_is_not_lent_but_a_technician_may_take_it():
    leases, _ = lab(count=1)
    kit = leases.get("Kit 01")
    kit.problem = "did not answer"
    assert kit.state is KitState.FAULTY
    with pytest.raises(NoKitFree):
        leases.take("any", "hs-an")
    with pytest.raises(KitFaulty) as faulty:
        leases.take("Kit 01", "hs-an")
    assert "did not answer" in faulty.value.en
    assert leases.take("Kit 01", "kt-dung", manager=True) is kit


def test_a_lease_ends_when_unused_and_every_use_renews_it():
    leases, clock = lab(count=1, idle=60)
    kit = leases.take("Kit 01", "hs-an")
    clock.now += 50
    leases.held("Kit 01", "hs-an")  # a use
    clock.now += 50
    assert leases.expire() == [] and leases.expires_in(kit) == 10
    clock.now += 11
    assert leases.expire() == [kit] and kit.state is KitState.FREE and leases.expires_in(kit) is None
    leases.used(kit)  # a program that outlived its lease renews nothing
    assert kit.lease is None


def test_an_unknown_kit_is_named():
    leases, _ = lab()
    with pytest.raises(UnknownKit) as unknown:
        leases.take("Kit 99", "hs-an")
    assert "Kit 99" in unknown.value.en
