import os
import sys


def identify():
    try:
        u = os.uname()
        m, r = u.machine, u.release
    except AttributeError:
        m = getattr(sys.implementation, '_machine', sys.platform)
        r = '.'.join(str(n) for n in sys.implementation.version[:3])
    try:
        import machine
        import binascii
        uid = binascii.hexlify(machine.unique_id()).decode()
    except Exception:
        uid = ''
    try:
        import yolobit
        y = True
    except ImportError:
        y = False
    try:
        i2c = machine.I2C(0).scan()
    except Exception:
        i2c = []
    return (m, r, sys.platform, uid, y, i2c)
