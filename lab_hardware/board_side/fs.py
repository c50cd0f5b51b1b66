import os


def listdir(path):
    if not os.statvfs('/')[2]:
        return None
    return [(e[0], e[1] == 0x4000, e[3] if len(e) > 3 else 0) for e in os.ilistdir(path)]


def free_bytes():
    s = os.statvfs('/')
    return s[0] * s[3] if s[2] else None


def remove(path, quiet):
    try:
        os.remove(path)
    except OSError:
        if not quiet:
            raise


def replace(part, path):
    try:
        os.rename(part, path)
    except OSError:
        os.remove(path)
        os.rename(part, path)


def mkdir(path):
    p = ''
    for part in path.strip('/').split('/'):
        p += '/' + part
        try:
            os.mkdir(p)
        except OSError as e:
            if e.errno != 17:
                raise
