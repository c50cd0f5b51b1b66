import time


def plot(expression, ms, every):
    t0 = time.ticks_ms()
    while time.ticks_diff(time.ticks_ms(), t0) < ms:
        print(eval(expression))
        time.sleep_ms(every)
