import os
import sys


def identify():
    u = os.uname()
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
    return (u.machine, u.release, sys.platform, uid, y, i2c)
