import _sim


def timeline():
    return _sim.timeline()
