"""The machine a benchmark runs on: its load now, and one busy core on demand."""
import subprocess
import sys


def machine_load():
    """``"load 1.23, running 3"``: the 1-minute load average and the tasks running now."""
    fields = open("/proc/loadavg").read().split()
    return f"load {fields[0]}, running {fields[3].split('/')[0]}"


def start_busy_loop():
    """One ``while True: pass`` process, pinned to the last allowed CPU: one busy core.

    Pinned, so that it is one core's worth of work on the same core throughout, not a
    process the scheduler moves between cores. Kill it when done.
    """
    code = ("import os\nos.sched_setaffinity(0, {max(os.sched_getaffinity(0))})\n"
            "print(1, flush=True)\nwhile True: pass")
    busy = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    busy.stdout.readline()  # running
    return busy
