import binascii
import os


def open_part(path):
    global _f, _w, _d
    d = path.rsplit('/', 1)[0] or '/'
    for e in os.ilistdir(d):
        if e[0].endswith('.part') and e[1] != 0x4000:
            os.remove(d.rstrip('/') + '/' + e[0])
    _f = open(path, 'wb')
    _w = _f.write
    _d = binascii.a2b_base64


def close_part():
    _f.close()


def send(path, chunk):
    f = open(path, 'rb')
    while True:
        b = f.read(chunk)
        if not b:
            break
        print(binascii.b2a_base64(b).decode().strip())
    f.close()
