import time
from yolobit import *


def show_colours():
    for c in ('#ff0000', '#00ff00', '#0000ff'):
        display.show(Image.ALL_ON, c)
        time.sleep_ms(400)
    music.pitch(880, 300)
    display.clear()


def wait_button(name, ms):
    b = button_a if name == 'a' else button_b
    t0 = time.ticks_ms()
    while time.ticks_diff(time.ticks_ms(), t0) < ms:
        if b.is_pressed():
            return True
        time.sleep_ms(20)
    return False


def light():
    return light_level()


def wait_dark(before, ms):
    t0 = time.ticks_ms()
    while time.ticks_diff(time.ticks_ms(), t0) < ms:
        if light_level() < before * 0.5:
            return True
        time.sleep_ms(20)
    return False


def celsius():
    return temperature()
