import binascii
import hashlib


def sha256(path):
    try:
        f = open(path, 'rb')
    except OSError:
        return None
    h = hashlib.sha256()
    while True:
        b = f.read(1024)
        if not b:
            break
        h.update(b)
    f.close()
    return binascii.hexlify(h.digest()).decode()
