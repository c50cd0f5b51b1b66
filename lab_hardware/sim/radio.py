"""`network` (the Wi-Fi interfaces, as far as ESP-NOW needs them) and `espnow` on the simulated board.

What other kits send comes from the scenario's `radio` list, `[t_ms, sender's MAC, message]`; what
this board sends is a timeline event (kind and target "radio": the peer, the sender and the bytes),
for a grader to check, or to hand to a second simulated kit as its scenario. The behaviour is
MicroPython 1.23's on an ESP32: a WLAN interface must be active to send or receive, a peer is
registered before it is sent to, `recv` answers `(None, None)` when it times out, and ESP-IDF's
errors are `OSError(-code, "ESP_ERR_ESPNOW_...")`, so code that runs here runs on a Yolo:Bit.
"""

from __future__ import annotations

import types
from typing import Any, Callable, Protocol

from .modules import Runtime, _module

STA_IF, AP_IF = 0, 1
BROADCAST = b"\xff" * 6
MAX_DATA_LEN = 250           # ESP-NOW v1, as in the 1.23 firmware
MAX_TOTAL_PEER_NUM, MAX_ENCRYPT_PEER_NUM, KEY_LEN, ADDR_LEN = 20, 6, 16, 6
DEFAULT_RXBUF, DEFAULT_TIMEOUT_MS = 526, 300_000
PACKET_OVERHEAD = 16         # what one queued message costs in rxbuf besides its bytes (MAC, length, RSSI)
RSSI_DBM = -50               # a kit across a classroom
# ESP-IDF's codes (ESP_ERR_ESPNOW_BASE is 0x3000 + 100); MicroPython raises them negated
ESPNOW_ERRORS = {"NOT_INIT": 12389, "ARG": 12390, "NO_MEM": 12391, "FULL": 12392, "NOT_FOUND": 12393,
                 "INTERNAL": 12394, "EXIST": 12395, "IF": 12396, "CHAN": 12397}
SCAN_RESULTS = [  # (ssid, bssid, channel, RSSI, security, hidden): a school's usual air
    (b"STEM-Lab", b"\x02\x00\x00\x00\x00\x01", 6, -48, 3, False),
    (b"Truong-THPT", b"\x02\x00\x00\x00\x00\x02", 11, -71, 3, False),
]


class EspError(OSError):
    """MicroPython prints an OSError with two arguments as a tuple, `(-12393, 'ESP_ERR_...')`;
    CPython would print `[Errno -12393] ...`, and a student matching the board's text would miss."""

    def __str__(self) -> str:
        return repr(self.args)


def _espnow_error(name: str) -> EspError:
    return EspError(-ESPNOW_ERRORS[name], f"ESP_ERR_ESPNOW_{name}")


def parse_mac(text: str) -> bytes:
    """A MAC address written `aa:bb:cc:dd:ee:ff`, `aa-bb-…` or `aabbccddeeff`, as its 6 bytes."""
    digits = text.replace(":", "").replace("-", "").strip()
    try:
        mac = bytes.fromhex(digits)
    except ValueError:
        mac = b""
    if len(mac) != ADDR_LEN:
        raise ValueError(f"{text!r} is not a MAC address (six hex bytes, e.g. 'aa:bb:cc:dd:ee:ff')")
    return mac


def check_radio_scenario(messages: list) -> None:
    """A scenario's `radio`: each message `[t_ms, "sender's MAC", "text"]`; a ValueError says which is wrong."""
    for entry in messages:
        if not (isinstance(entry, (list, tuple)) and len(entry) == 3 and isinstance(entry[0], (int, float))
                and isinstance(entry[1], str) and isinstance(entry[2], str)):
            raise ValueError(f"scenario 'radio': each message is [t_ms, 'sender MAC', 'text'], not {entry!r}")
        parse_mac(entry[1])


def mac_text(mac: bytes) -> str:
    return ":".join(f"{b:02x}" for b in mac)


def _mac_argument(mac: Any) -> bytes:
    if not isinstance(mac, (bytes, bytearray)) or len(mac) != ADDR_LEN:
        raise ValueError("invalid MAC address")
    return bytes(mac)


def _message_bytes(msg: Any) -> bytes:
    if isinstance(msg, str):
        return msg.encode()
    if isinstance(msg, (bytes, bytearray, memoryview)):
        return bytes(msg)
    raise TypeError("object with buffer protocol required")


class Listener(Protocol):
    def hear(self, mac: bytes, data: bytes) -> None: ...
    def wake(self) -> None: ...


class Air:
    """The board's radio: which interfaces are up, and what reaches it from the scenario."""

    def __init__(self, rt: Runtime):
        self.hw = rt.hardware
        base = (rt.board_id + bytes(ADDR_LEN))[:ADDR_LEN]  # the eFuse base MAC is the station's
        self.macs = {STA_IF: base, AP_IF: base[:5] + bytes([(base[5] + 1) % 256])}
        self.active = {STA_IF: False, AP_IF: False}
        self.channel = 1
        self.listener: Listener | None = None  # ESP-NOW, while active
        self._run: tuple[int, float] = (0, -1.0)  # (scenario, timeline origin) the count below is for
        self._done = 0  # scenario messages whose time has come

    def deliver(self) -> None:
        """Hand every scenario message whose time has come to the listener; one that comes while
        nobody listens (radio off, ESP-NOW inactive) is lost, as on the air."""
        scenario = self.hw.scenario
        if self._run != (id(scenario), self.hw.timeline.origin):
            self._run, self._done = (id(scenario), self.hw.timeline.origin), 0  # times count from the run's start
        now, heard = self.hw.t(), False
        while self._done < len(scenario.radio) and scenario.radio[self._done][0] <= now:
            t, sender, text = scenario.radio[self._done]
            self._done += 1
            try:
                mac = parse_mac(sender)
            except ValueError as err:
                raise ValueError(f"scenario 'radio' message at {t:g} ms: {err}") from None
            if self.listener is not None and any(self.active.values()):
                self.listener.hear(mac, _message_bytes(text))
                heard = True
        if heard and self.listener is not None:
            self.listener.wake()  # after the count is settled: the callback may read (and so deliver) again

    def on_clock(self, _from_ms: float, _to_ms: float) -> None:
        self.deliver()


def build_radio(rt: Runtime) -> dict[str, types.ModuleType]:
    """`network` for every board; `espnow` where the firmware has it (the ESP32 port)."""
    air = Air(rt)
    rt.hardware.clock.on_advance.append(air.on_clock)
    modules = {"network": _build_network(air)}
    if rt.hardware.model.platform == "esp32":
        modules["espnow"] = _build_espnow(air)
    return modules


def _build_network(air: Air) -> types.ModuleType:
    class WLAN:
        IF_STA, IF_AP = STA_IF, AP_IF

        def __init__(self, interface: int = STA_IF):
            if interface not in air.active:
                raise ValueError("invalid WLAN interface identifier")
            self.interface = interface  # state lives in `air`: WLAN(STA_IF) is the same interface every time

        def active(self, is_active: Any = None) -> bool | None:
            if is_active is None:
                return air.active[self.interface]
            air.deliver()  # what came before the radio was on is lost, not kept for later
            air.active[self.interface] = bool(is_active)
            return None

        def scan(self) -> list[tuple]:
            if not air.active[self.interface]:
                raise OSError("Wifi Not Started")
            return list(SCAN_RESULTS)

        def isconnected(self) -> bool:
            return False

        def disconnect(self) -> None:
            pass

        def status(self, *param: str) -> int:
            return 1000  # STAT_IDLE: the simulated kit joins no access point

        def config(self, *param: str, **values: Any) -> Any:
            if param:
                if len(param) != 1 or values:
                    raise TypeError("can query only one param")
                name = param[0]
                answers = {"mac": air.macs[self.interface], "channel": air.channel, "txpower": 20,
                           "essid": "" if self.interface == STA_IF else f"ESP_{air.macs[AP_IF][3:].hex().upper()}"}
                if name == "ssid":
                    name = "essid"
                if name not in answers:
                    raise ValueError("unknown config param")
                return answers[name]
            if "channel" in values:
                if not 1 <= int(values["channel"]) <= 14:
                    raise ValueError("invalid channel")
                air.channel = int(values["channel"])
            return None

    return _module("network", WLAN=WLAN, STA_IF=STA_IF, AP_IF=AP_IF, STAT_IDLE=1000)


def _build_espnow(air: Air) -> types.ModuleType:
    hw, clock = air.hw, air.hw.clock

    class ESPNow:
        """The singleton: every `espnow.ESPNow()` is the same object, as on the board."""

        _instance: "ESPNow | None" = None

        def __new__(cls) -> "ESPNow":
            if cls._instance is None:
                instance = super().__new__(cls)
                instance._setup()
                cls._instance = instance
            return cls._instance

        def _setup(self) -> None:
            self._active = False
            self._rxbuf, self._timeout_ms = DEFAULT_RXBUF, DEFAULT_TIMEOUT_MS
            self._peers: dict[bytes, tuple[bytes, int, int, bool]] = {}  # mac -> (lmk, channel, ifidx, encrypt)
            self._queue: list[tuple[bytes, bytes]] = []
            self._queued_bytes = 0
            self._irq: Callable[[Any], Any] | None = None
            self._stats = [0, 0, 0, 0, 0]  # tx_pkts, tx_responses, tx_failures, rx_packets, rx_dropped
            self.peers_table: dict[bytes, list[int]] = {}

        # ---- set-up
        def active(self, flag: Any = None) -> bool:
            if flag is not None:
                air.deliver()
                if flag and not self._active:
                    self._active = True
                    self._queue, self._queued_bytes = [], 0
                    air.listener = self
                elif not flag and self._active:
                    self._active = False  # deinit: the buffer and every peer go
                    self._peers.clear()
                    self._queue, self._queued_bytes = [], 0
                    air.listener = None
            return self._active

        def config(self, *param: str, **values: Any) -> Any:
            if param:
                answers = {"rxbuf": self._rxbuf, "timeout_ms": self._timeout_ms}
                if len(param) != 1 or param[0] not in answers:
                    raise ValueError("unknown config param")
                return answers[param[0]]
            for name, value in values.items():
                if name == "rxbuf":
                    self._rxbuf = int(value)
                elif name == "timeout_ms":
                    self._timeout_ms = int(value)
                elif name != "rate":
                    raise ValueError(f"unknown config param {name}")
            return None

        def irq(self, callback: Callable[[Any], Any] | None) -> None:
            self._irq = callback

        def _need_init(self) -> None:
            if not self._active:
                raise _espnow_error("NOT_INIT")

        # ---- peers
        def add_peer(self, mac: Any, lmk: Any = None, channel: Any = None, ifidx: Any = None,
                     encrypt: Any = None) -> None:
            self._need_init()
            peer = _mac_argument(mac)
            if peer in self._peers:
                raise _espnow_error("EXIST")
            if len(self._peers) >= MAX_TOTAL_PEER_NUM:
                raise _espnow_error("FULL")
            self._peers[peer] = self._peer_info(lmk, channel, ifidx, encrypt)
            if sum(p[3] for p in self._peers.values()) > MAX_ENCRYPT_PEER_NUM:
                del self._peers[peer]
                raise _espnow_error("FULL")

        def _peer_info(self, lmk: Any, channel: Any, ifidx: Any, encrypt: Any) -> tuple[bytes, int, int, bool]:
            key = _message_bytes(lmk) if lmk else b""
            if key and len(key) != KEY_LEN:
                raise ValueError("lmk must be 16 bytes")
            if channel not in (None, 0, air.channel):
                raise _espnow_error("CHAN")
            if ifidx not in (None, STA_IF, AP_IF):
                raise ValueError("invalid ifidx")
            return key, int(channel or 0), int(ifidx or STA_IF), bool(key) if encrypt is None else bool(encrypt)

        def mod_peer(self, mac: Any, lmk: Any = None, channel: Any = None, ifidx: Any = None,
                     encrypt: Any = None) -> None:
            peer = self._known(mac)
            was = self._peers[peer]  # what is not given stays as it was
            self._peers[peer] = self._peer_info(was[0] if lmk is None else lmk, was[1] if channel is None else channel,
                                                was[2] if ifidx is None else ifidx, was[3] if encrypt is None else encrypt)

        def _known(self, mac: Any) -> bytes:
            self._need_init()
            peer = _mac_argument(mac)
            if peer not in self._peers:
                raise _espnow_error("NOT_FOUND")
            return peer

        def del_peer(self, mac: Any) -> None:
            del self._peers[self._known(mac)]

        def get_peer(self, mac: Any) -> tuple[bytes, bytes, int, int, bool]:
            peer = self._known(mac)
            return (peer,) + self._peers[peer]

        def get_peers(self) -> tuple[tuple[bytes, bytes, int, int, bool], ...]:
            return tuple((peer,) + info for peer, info in self._peers.items())

        def peer_count(self) -> tuple[int, int]:
            return len(self._peers), sum(p[3] for p in self._peers.values())

        # ---- sending
        def send(self, *args: Any) -> bool:
            if not 1 <= len(args) <= 3:
                raise TypeError("function takes 1 to 3 positional arguments")
            mac, msg = (None, args[0]) if len(args) == 1 else (args[0], args[1])  # sync: every peer answers here
            self._need_init()
            data = _message_bytes(msg)
            if mac is None:  # every registered peer but the broadcast and multicast ones
                peers = [p for p in self._peers if not p[0] & 1]
                if not peers:
                    raise _espnow_error("NOT_FOUND")
            else:
                peers = [self._known(mac)]
            if len(data) > MAX_DATA_LEN:
                raise _espnow_error("ARG")
            for peer in peers:
                if not air.active[self._peers[peer][2]]:
                    raise _espnow_error("IF")
            for peer in peers:
                hw.timeline.record("radio", "radio", {"peer": mac_text(peer), "from": mac_text(air.macs[self._peers[peer][2]]),
                                                      "msg": data.decode("utf-8", "replace"), "hex": data.hex()})
                self._stats[0] += 1
                self._stats[1] += 1
            clock.tick(0.5)  # a packet on air takes a fraction of a millisecond
            return True

        # ---- receiving
        def hear(self, mac: bytes, data: bytes) -> None:
            cost = len(data) + PACKET_OVERHEAD
            if self._queued_bytes + cost > self._rxbuf:
                self._stats[4] += 1  # the buffer is full: dropped (yet acknowledged to the sender)
                return
            self._queue.append((mac, data))
            self._queued_bytes += cost
            self._stats[3] += 1

        def wake(self) -> None:
            if self._irq is not None and self._queue:
                self._irq(self)

        def any(self) -> bool:
            clock.tick()
            air.deliver()
            return bool(self._queue)

        def recvinto(self, data: list, timeout_ms: Any = None) -> int:
            self._need_init()
            if not any(air.active.values()):
                raise _espnow_error("IF")
            if timeout_ms is None:
                timeout_ms = self._timeout_ms
            if not isinstance(timeout_ms, int):  # the firmware reads it with mp_obj_get_int
                raise TypeError(f"can't convert {type(timeout_ms).__name__} to int")
            deadline = hw.t() + timeout_ms
            air.deliver()
            while not self._queue:
                left = deadline - hw.t()
                if timeout_ms >= 0 and left <= 0:
                    return 0
                clock.sleep_ms(10 if timeout_ms < 0 else min(10.0, left))  # slices, so deliveries land in time
            mac, msg = self._queue.pop(0)
            self._queued_bytes -= len(msg) + PACKET_OVERHEAD
            self.peers_table[mac] = [RSSI_DBM, int(clock.now_ms())]
            data[0] = mac
            if isinstance(data[1], bytearray):
                data[1][:] = msg
            else:
                data[1] = msg
            if len(data) >= 4:
                data[2], data[3] = RSSI_DBM, int(clock.now_ms())
            return len(msg)

        def recv(self, timeout_ms: Any = None) -> Any:
            data: list = [None, b""]
            return [data[0], bytes(data[1])] if self.recvinto(data, timeout_ms) or data[0] else (None, None)

        def irecv(self, timeout_ms: Any = None) -> Any:
            data: list = [None, bytearray()]
            return data if self.recvinto(data, timeout_ms) or data[0] else (None, None)

        def __iter__(self) -> "ESPNow":
            return self

        def __next__(self) -> Any:
            return self.irecv()

        def stats(self) -> tuple[int, ...]:
            return tuple(self._stats)

        def set_pmk(self, pmk: Any) -> None:
            if len(_message_bytes(pmk)) != KEY_LEN:
                raise ValueError("pmk must be 16 bytes")

    return _module("espnow", ESPNow=ESPNow, MAX_DATA_LEN=MAX_DATA_LEN, KEY_LEN=KEY_LEN, ADDR_LEN=ADDR_LEN,
                   MAX_TOTAL_PEER_NUM=MAX_TOTAL_PEER_NUM, MAX_ENCRYPT_PEER_NUM=MAX_ENCRYPT_PEER_NUM)
