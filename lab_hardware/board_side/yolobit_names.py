from yolobit import *
