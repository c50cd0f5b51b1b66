"""From a notebook cell to a MicroPython kit and back: kit records, transport, simulated kit."""
