"""Opening a kit's serial port by pyserial URL, with errors a person can act on."""

from __future__ import annotations

import errno
import getpass
import termios

import serial

from .errors import KitBusy, KitNotFound, KitPermissionDenied

# What pyserial raises when the device goes away: its own error, the OS's, termios' (tcdrain on a
# vanished pseudo-terminal), and TypeError from a port closed under a read.
LINE_ERRORS = (serial.SerialException, OSError, TypeError, termios.error)
if "lab_hardware.urlhandler" not in serial.protocol_handler_packages:
    serial.protocol_handler_packages.append("lab_hardware.urlhandler")  # sim://


def open_port(url: str, baudrate: int = 115200) -> serial.SerialBase:
    """Open a pyserial URL, turning pyserial's errors into ones a person can act on."""
    options: dict = {"baudrate": baudrate, "timeout": 0.05}
    if "://" not in url or url.startswith("sim://"):
        # a local device: a write never blocks forever, and no second program opens it meanwhile
        # (pyserial's network transports support neither option)
        options.update(write_timeout=10, exclusive=True)
    try:
        return serial.serial_for_url(url, **options)
    except (serial.SerialException, OSError, ValueError) as err:
        code = getattr(err, "errno", None)
        text = str(err)
        if code == errno.ENOENT or "No such file" in text or "could not open port" in text and "No such" in text:
            raise KitNotFound(url) from err
        if code in (errno.EACCES, errno.EPERM) or "Permission denied" in text:
            raise KitPermissionDenied(url, getpass.getuser()) from err
        if code == errno.EBUSY or "lock" in text.lower() or "busy" in text.lower():
            raise KitBusy(url, text) from err
        if "Connection refused" in text or code == errno.ECONNREFUSED:
            raise KitNotFound(url, "connection refused") from err
        raise KitNotFound(url, text) from err
