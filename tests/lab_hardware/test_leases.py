"""Leases end when unused: the kit returns to the pool cleaned (files the user added removed,
memory cleared), with real simulated kits behind the service's Lab."""

from __future__ import annotations

import time

import pytest

from lab_hardware import files
from lab_hardware.folders import KitFolders
from lab_hardware.inventory import Kit
from lab_hardware.leases import Lease
from lab_hardware.service import Lab
from lab_hardware.sim.kit import SimKit

pytestmark = pytest.mark.kit


def test_an_idle_lease_expires_and_the_kit_is_cleaned(tmp_path):
    with SimKit() as sim:
        lab = Lab([Kit(sim.path, "sim:one", "Kit 01", kind="simulated")], KitFolders.under(tmp_path), idle_seconds=0.2)
        for managed in lab.kits.values():
            managed.lock.acquire()
        lab.prepare()
        managed = lab.kits["Kit 01"]
        assert managed.model == "Yolo:Bit v4"
        now = time.time()
        managed.lease = Lease("hs-student", now, now)
        with managed.lock:
            link = managed.connect()
            files.put(link, b"print('mine')\n", "/main.py")
            link.exec("secret = 42")
        time.sleep(0.3)
        lab.expire_idle()
        assert managed.lease is None
        lab.pool.shutdown(wait=True)
        with managed.lock:
            link = managed.connect()
            assert "main.py" not in {e.name for e in files.listdir(link, "/")}
            assert link.exec("print('secret' in dir())") == "False\n"
        managed.drop_link()
