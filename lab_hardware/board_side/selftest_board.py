import machine


def accel(address):
    i2c = machine.I2C(0)
    if address == 0x19:
        i2c.writeto_mem(0x19, 0x20, b'\x57')
        i2c.writeto_mem(0x19, 0x23, b'\x08')
        r = i2c.readfrom_mem(0x19, 0x28 | 0x80, 6)
        v = [((r[2 * i + 1] << 8 | r[2 * i]) - (65536 if r[2 * i + 1] & 0x80 else 0)) >> 4 for i in range(3)]
        return [x / 1000 for x in v]
    i2c.writeto_mem(0x68, 0x6B, b'\x00')
    r = i2c.readfrom_mem(0x68, 0x3B, 6)
    v = [((r[2 * i] << 8 | r[2 * i + 1]) - (65536 if r[2 * i] & 0x80 else 0)) for i in range(3)]
    return [x / 16384 for x in v]


def networks():
    import network
    w = network.WLAN(0)
    w.active(True)
    return len(w.scan())
