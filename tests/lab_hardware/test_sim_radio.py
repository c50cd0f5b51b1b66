"""ESP-NOW between kits on the simulated board, through the serial link as a notebook uses it:
what other kits send comes from the scenario's `radio` list at its time, what the board sends is on
its timeline, and what goes wrong fails as it does on an ESP32 (the same exception and text)."""

from __future__ import annotations

import json

import pytest

from lab_hardware.boardcheck import check_cell
from lab_hardware.errors import BoardError
from lab_hardware.sim.radio import check_radio_scenario, parse_mac
from lab_hardware.stubs import stub_file
from lab_hardware.transport import KitConnection

RADIO_ON = ("import network, espnow\nnetwork.WLAN(network.STA_IF).active(True)\n"
            "e = espnow.ESPNow()\ne.active(True)\n")
EVERYONE = "b'\\xff' * 6"


def sends(link: KitConnection) -> list[dict]:
    events = json.loads(link.exec("import _sim\nprint(_sim.timeline())"))["events"]
    return [dict(e["value"], t=round(e["t"])) for e in events if e["kind"] == "radio"]


def restarted(link: KitConnection) -> KitConnection:
    link.exec("import _sim\n_sim.restart()")
    return link


def test_a_broadcast_is_on_the_timeline_with_its_peer_sender_and_bytes(sim_kit):
    kit = sim_kit(model="yolobit", realtime=False)
    with restarted(KitConnection.open(kit.path)) as link:
        link.exec(RADIO_ON + f"e.add_peer({EVERYONE})\nimport time\n"
                  f"e.send({EVERYONE}, 'goi')\ntime.sleep_ms(300)\ne.send({EVERYONE}, b'\\x01\\x02', False)\n")
        assert sends(link) == [
            {"t": 0, "peer": "ff:ff:ff:ff:ff:ff", "from": "24:0a:c4:00:00:01", "msg": "goi", "hex": "676f69"},
            {"t": 300, "peer": "ff:ff:ff:ff:ff:ff", "from": "24:0a:c4:00:00:01", "msg": "\x01\x02", "hex": "0102"}]


def test_the_station_mac_is_the_boards_id_and_the_interface_state_is_shared(sim_kit):
    kit = sim_kit(model="yolobit", realtime=False, board_id="240ac4123456")
    with KitConnection.open(kit.path) as link:
        assert link.eval("__import__('network').WLAN(0).config('mac')") == bytes.fromhex("240ac4123456")
        assert link.eval("__import__('network').WLAN(1).config('mac')") == bytes.fromhex("240ac4123457")
        link.exec("import network\nnetwork.WLAN(network.STA_IF).active(True)")
        assert link.eval("network.WLAN(network.STA_IF).active()") is True, "WLAN(STA_IF) is one interface"
        assert link.eval("network.WLAN(network.AP_IF).active()") is False


@pytest.mark.parametrize("program,error", [
    # ESP-NOW not started
    (f"import espnow\nespnow.ESPNow().add_peer({EVERYONE})", "OSError: (-12389, 'ESP_ERR_ESPNOW_NOT_INIT')"),
    # the WLAN interface left off: the classic first mistake
    (f"import espnow\ne = espnow.ESPNow()\ne.active(True)\ne.add_peer({EVERYONE})\ne.send({EVERYONE}, 'x')",
     "OSError: (-12396, 'ESP_ERR_ESPNOW_IF')"),
    (RADIO_ON + f"e.send({EVERYONE}, 'x')", "OSError: (-12393, 'ESP_ERR_ESPNOW_NOT_FOUND')"),
    (RADIO_ON + f"e.add_peer({EVERYONE})\ne.add_peer({EVERYONE})", "OSError: (-12395, 'ESP_ERR_ESPNOW_EXIST')"),
    (RADIO_ON + f"e.add_peer({EVERYONE})\ne.send({EVERYONE}, 'x' * 251)", "OSError: (-12390, 'ESP_ERR_ESPNOW_ARG')"),
    (RADIO_ON + f"e.add_peer({EVERYONE})\ne.send({EVERYONE}, 5)", "TypeError: object with buffer protocol required"),
    (RADIO_ON + "e.add_peer(b'\\x01\\x02')", "ValueError: invalid MAC address"),
    (RADIO_ON + "e.recv(0.5)", "TypeError: can't convert float to int"),
])
def test_mistakes_fail_as_on_an_esp32(sim_kit, program, error):
    kit = sim_kit(model="yolobit", realtime=False)
    with KitConnection.open(kit.path) as link, pytest.raises(BoardError) as failed:
        link.exec(program)
    assert failed.value.traceback.splitlines()[-1] == error


def test_messages_arrive_at_their_time_and_recv_times_out_with_none(sim_kit):
    scenario = {"radio": [[400, "aa:bb:cc:dd:ee:01", "3"], [100, "AA-BB-CC-DD-EE-02", "goi"]]}
    kit = sim_kit(model="yolobit", realtime=False, scenario=scenario)
    with restarted(KitConnection.open(kit.path)) as link:
        out = link.exec(RADIO_ON + "import time\n"
                        "print(e.recv(50), e.any())\n"           # nothing yet at 50 ms
                        "import _sim\nprint(e.recv(1000), round(_sim.now()))\n"   # the first, when it comes
                        "time.sleep_ms(400)\nprint(e.any())\n"
                        "host, msg = e.recv()\nprint(host, msg, e.recv(0))\n"
                        "print(e.stats(), sorted(e.peers_table))\n")
        lines = out.splitlines()
        assert lines[0] == "(None, None) False"
        assert lines[1] == "[b'\\xaa\\xbb\\xcc\\xdd\\xee\\x02', b'goi'] 100", "in time order, at its time"
        assert lines[2] == "True"
        assert lines[3] == "b'\\xaa\\xbb\\xcc\\xdd\\xee\\x01' b'3' (None, None)"
        assert lines[4].startswith("(0, 0, 0, 2, 0) [b'\\xaa")
        assert sends(link) == [], "receiving sends nothing"


def test_recv_waits_until_the_message_comes(sim_kit):
    kit = sim_kit(model="yolobit", realtime=False, scenario={"radio": [[250, "aa:bb:cc:dd:ee:01", "bat"]]})
    with restarted(KitConnection.open(kit.path)) as link:
        out = link.exec(RADIO_ON + "import _sim\nprint(e.recv(5000)[1], round(_sim.now()))\n")
        assert out.split() == ["b'bat'", "250"]


def test_a_message_while_the_radio_is_off_is_lost_and_a_full_buffer_drops(sim_kit):
    scenario = {"radio": [[50, "aa:bb:cc:dd:ee:01", "som"], [200, "aa:bb:cc:dd:ee:01", "muon"]]
                + [[300 + i, "aa:bb:cc:dd:ee:01", "x" * 200] for i in range(3)]}
    kit = sim_kit(model="yolobit", realtime=False, scenario=scenario)
    with restarted(KitConnection.open(kit.path)) as link:
        out = link.exec("import time\ntime.sleep_ms(100)\n" + RADIO_ON +
                        "time.sleep_ms(250)\nprint(e.recv(0)[1])\n"
                        "time.sleep_ms(100)\nprint(e.stats()[3:], len(e.recv(0)[1]), len(e.recv(0)[1]), e.recv(0))\n")
        first, then = out.splitlines()
        assert first == "b'muon'", "the message at 50 ms came before the radio was on"
        assert then == "(3, 1) 200 200 (None, None)", "two 200-byte messages fill the default 526-byte buffer"


def test_an_irq_callback_runs_when_a_message_comes(sim_kit):
    kit = sim_kit(model="yolobit", realtime=False, scenario={"radio": [[120, "aa:bb:cc:dd:ee:01", "goi"]]})
    with restarted(KitConnection.open(kit.path)) as link:
        out = link.exec(RADIO_ON + "import _sim, time\nheard = []\n"
                        "def on_message(e):\n    heard.append((int(round(_sim.now(), -1)), e.recv(0)[1]))\n"
                        "e.irq(on_message)\ntime.sleep_ms(500)\nprint(heard)\n")
        assert out.strip() == "[(120, b'goi')]"


def test_peers_and_sending_to_every_registered_peer(sim_kit):
    kit = sim_kit(model="yolobit", realtime=False)
    with restarted(KitConnection.open(kit.path)) as link:
        link.exec(RADIO_ON + f"e.add_peer({EVERYONE})\ne.add_peer(b'\\xaa' * 6)\ne.add_peer(b'\\xbb' * 6)\n"
                  "e.del_peer(b'\\xbb' * 6)\ne.send('tat')\n")
        assert [(s["peer"], s["msg"]) for s in sends(link)] == [("aa:aa:aa:aa:aa:aa", "tat")], \
            "send(msg) goes to every registered peer but the broadcast one"
        assert link.eval("e.peer_count()") == (2, 0)
        assert link.eval("e.get_peer(b'\\xaa' * 6)") == (b"\xaa" * 6, b"", 0, 0, False)
        assert link.eval("e.active(False)") is False and link.eval("e.active(True) and e.get_peers()") == ()


def test_two_simulated_kits_talk_one_run_after_the_other(sim_kit):
    """Kit A sends its table number on each press of A; what it sent is kit B's scenario, and B shows it."""
    press = {"buttons": {"a": [[300, 400], [1500, 1600]]}}
    sender = sim_kit(model="yolobit", realtime=False, scenario=press, board_id="240ac4000003")
    with restarted(KitConnection.open(sender.path)) as link:
        link.exec("from yolobit import *\n" + RADIO_ON + f"e.add_peer({EVERYONE})\n"
                  "for i in range(100):\n    if button_a.was_pressed():\n"
                  f"        e.send({EVERYONE}, '3')\n    sleep(20)\n")
        sent = sends(link)
    assert [(round(s["t"], -1), s["from"], s["msg"]) for s in sent] == [(300, "24:0a:c4:00:00:03", "3"),
                                                                         (1500, "24:0a:c4:00:00:03", "3")]
    air = [[s["t"], s["from"], s["msg"]] for s in sent]
    receiver = sim_kit(model="yolobit", realtime=False, scenario={"radio": air})
    with restarted(KitConnection.open(receiver.path)) as link:
        out = link.exec("from yolobit import *\nimport _sim\n" + RADIO_ON +
                        "for i in range(100):\n    if e.any():\n        host, msg = e.recv()\n"
                        "        print(int(round(_sim.now(), -1)), host, msg.decode())\n    sleep(20)\n")
    assert out.splitlines() == ["300 b'$\\n\\xc4\\x00\\x00\\x03' 3", "1500 b'$\\n\\xc4\\x00\\x00\\x03' 3"]


def test_boards_without_espnow_say_so():
    from lab_hardware.sim.kit import SimKit

    with SimKit(model="pico", realtime=False) as kit, KitConnection.open(kit.path) as link, \
            pytest.raises(BoardError) as failed:
        link.exec("import espnow")
    assert failed.value.exc_type == "ImportError"


def test_a_scenario_names_its_bad_message():
    check_radio_scenario([[0, "aa:bb:cc:dd:ee:ff", "goi"], [10.5, "aabbccddeeff", ""]])
    with pytest.raises(ValueError, match="not a MAC address"):
        check_radio_scenario([[0, "aa:bb:cc", "goi"]])
    with pytest.raises(ValueError, match=r"\[t_ms, 'sender MAC', 'text'\]"):
        check_radio_scenario([[0, "aa:bb:cc:dd:ee:ff"]])
    assert parse_mac("AA-BB-CC-DD-EE-FF") == b"\xaa\xbb\xcc\xdd\xee\xff"


@pytest.mark.skipif(stub_file("esp32", "espnow") is None, reason="the ESP32 board stubs are not installed")
def test_the_lessons_radio_program_passes_the_static_check_and_a_typo_does_not():
    program = ("from yolobit import *\nimport network, espnow\nnetwork.WLAN(network.STA_IF).active(True)\n"
               "e = espnow.ESPNow()\ne.active(True)\ne.add_peer(b'\\xff' * 6)\n"
               "if e.any():\n    host, msg = e.recv()\ne.send(b'\\xff' * 6, '3')\n")
    assert check_cell(program, "esp32") == []
    problems = check_cell(program.replace("e.any()", "e.anything()"), "esp32")
    assert [p.line for p in problems] == [7] and "has no `anything`" in problems[0].message_en
