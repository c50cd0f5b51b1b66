import _sim


def start(ms):
    _sim.restart()
    _sim.run_for(ms)
