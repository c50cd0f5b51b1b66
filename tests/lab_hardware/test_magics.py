"""%kit and %%kit in a real IPython kernel (jupyter_client), against each kit target (the simulated
Yolo:Bit, real MicroPython under QEMU, or --kit=URL): live output, the stop button stopping the
board, the static check naming the misused API before anything is sent, files, completion from the
board's stubs, a live plot. What needs a Yolo:Bit or the simulator's controls skips elsewhere."""

from __future__ import annotations

import os
import sys
import time

import pytest
from jupyter_client.manager import start_new_kernel

pytestmark = pytest.mark.kit


class Kernel:
    def __init__(self, cwd):
        env = {k: v for k, v in os.environ.items() if k != "STEMLAB_KITS_URL"}
        self.km, self.kc = start_new_kernel(kernel_name="python3", cwd=str(cwd), env=env)

    def run(self, code: str, timeout: float = 60, interrupt_after: float | None = None) -> dict:
        msg_id = self.kc.execute(code)
        out = {"stdout": "", "stderr": "", "error": None, "stream_times": [], "comms": []}
        start = time.monotonic()
        interrupted = False
        while True:
            if interrupt_after and not interrupted and time.monotonic() - start > interrupt_after:
                self.km.interrupt_kernel()
                interrupted = True
            try:
                msg = self.kc.get_iopub_msg(timeout=0.5)
            except Exception:  # noqa: BLE001  (queue.Empty)
                assert time.monotonic() - start < timeout, f"cell did not finish: {out}"
                continue
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            kind, content = msg["msg_type"], msg["content"]
            if kind == "stream":
                out[content["name"]] += content["text"]
                out["stream_times"].append(time.monotonic() - start)
            elif kind == "error":
                out["error"] = content["ename"]
            elif kind.startswith("comm"):
                out["comms"].append(content)
            elif kind == "status" and content["execution_state"] == "idle":
                return out

    def complete(self, code: str) -> list[str]:
        msg_id = self.kc.complete(code, len(code))
        while True:
            reply = self.kc.get_shell_msg(timeout=30)
            if reply["parent_header"].get("msg_id") == msg_id:
                return reply["content"]["matches"]

    def close(self) -> None:
        self.kc.stop_channels()
        self.km.shutdown_kernel(now=True)


@pytest.fixture
def kernel_and_kit(tmp_path, target):
    kernel = Kernel(tmp_path)
    kernel.run("%load_ext lab_hardware.magics")
    connected = kernel.run(f"%kit connect {target.url}")
    expected = "Yolo:Bit v4" if target.sim else "MicroPython"
    assert expected in connected["stdout"], connected
    yield kernel, target
    kernel.close()


def test_a_cell_runs_on_the_kit_with_live_output(kernel_and_kit):
    kernel, _ = kernel_and_kit
    result = kernel.run("%%kit\nimport time\nfor i in range(3):\n    print('lần', i)\n    time.sleep(0.4)\n")
    assert result["stdout"] == "lần 0\nlần 1\nlần 2\n" and result["error"] is None
    times = result["stream_times"]
    assert times[-1] - times[0] > 0.6, "printed as it ran, not at the end"
    failed = kernel.run("%%kit\nx = [1, 2]\nprint(x[5])\n")
    assert "IndexError" in failed["stderr"] and "line 2" in failed["stderr"]


def test_the_stop_button_stops_the_program_on_the_kit(kernel_and_kit):
    kernel, target = kernel_and_kit
    target.needs("interrupt")
    stopped = kernel.run("%%kit --timeout 120\nwhile True:\n    pass\n", interrupt_after=1.5, timeout=30)
    assert stopped["error"] == "KeyboardInterrupt"
    assert kernel.run("%%kit\nprint('vẫn chạy / still alive')\n")["stdout"] == "vẫn chạy / still alive\n"


def test_the_static_check_names_the_misused_api_and_sends_nothing(kernel_and_kit):
    kernel, target = kernel_and_kit
    target.needs("yolobit")
    kernel.run("%%kit\nsent = 0\n")
    checked = kernel.run("%%kit\nfrom yolobit import *\nsent = 1\ndisplay.shwo(Image.HEART)\n")
    assert "did you mean `show`" in checked["stderr"] and "line 3" in checked["stderr"]
    assert kernel.run("%%kit\nprint(sent)\n")["stdout"] == "0\n", "nothing of the cell ran"


def test_upload_and_list_files(kernel_and_kit, tmp_path):
    kernel, target = kernel_and_kit
    target.needs("filesystem")
    (tmp_path / "cam_bien.py").write_text("def doc():\n    return 42\n", encoding="utf-8")
    uploaded = kernel.run("%kit upload cam_bien.py")
    assert "cam_bien.py → /cam_bien.py" in uploaded["stdout"]
    assert "unchanged" in kernel.run("%kit upload cam_bien.py")["stdout"]
    assert "cam_bien.py" in kernel.run("%kit files")["stdout"]
    assert kernel.run("%%kit\nimport cam_bien\nprint(cam_bien.doc())\n")["stdout"] == "42\n"
    assert kernel.run("%%kit\nimport os\nos.remove('cam_bien.py')\n")["error"] is None  # as found


def test_completion_comes_from_the_boards_stubs(kernel_and_kit):
    kernel, target = kernel_and_kit
    target.needs("yolobit")
    assert {"Pin", "PWM"} <= set(kernel.complete("from machine import P"))
    assert "light_level" in kernel.complete("from yolobit import light_")


def test_a_live_plot_of_a_sensor(kernel_and_kit):
    kernel, target = kernel_and_kit
    target.needs("yolobit")
    result = kernel.run("%kit plot light_level() --every 100 --seconds 1")
    updates = [c for c in result["comms"] if c.get("data", {}).get("state", {}).get("value", "").startswith("<svg")]
    assert len(updates) >= 5, "the plot redraws as readings arrive"
    assert kernel.run("print(len(get_ipython().magics_manager.registry['KitMagics'].last_plot))")["stdout"].strip() in {
        str(n) for n in range(8, 13)}


def test_the_timeline_of_a_simulated_kit_is_plotted(kernel_and_kit):
    kernel, target = kernel_and_kit
    target.needs("controls")
    kernel.run("%%kit\nimport _sim\n_sim.restart()\nfrom machine import Pin\nimport time\nled = Pin(2, Pin.OUT)\n"
               "for i in range(3):\n    led.on()\n    time.sleep_ms(100)\n    led.off()\n    time.sleep_ms(100)\n")
    msg_id = kernel.kc.execute("%kit timeline")
    images = []
    while True:
        msg = kernel.kc.get_iopub_msg(timeout=60)
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        if msg["msg_type"] == "display_data":
            images.append(msg["content"]["data"])
        if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
            break
    assert images and "image/png" in images[0]
