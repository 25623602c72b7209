#!/usr/bin/env python3
# Runs a command on a fresh pty, as a person at a terminal would, and types a
# script at it: each step waits until OUTPUT holds the step's expected text
# (or its own bound passes). Steps are JSON on argv[1]:
#   {"send": TEXT} {"expect": TEXT, "within": S} {"winsize": [ROWS, COLS]} {"pause": S}
# The whole run is bounded: past DEADLINE seconds the child is SIGKILLed and
# "hung" is true, so a hang fails a test instead of blocking it.
# Prints one JSON line: {"out": …, "status": exit code or null, "hung": bool}.
import fcntl, json, os, pty, select, signal, struct, sys, termios, time

steps, deadline, argv = json.loads(sys.argv[1]), time.time() + float(sys.argv[2]), sys.argv[3:]
pid, fd = pty.fork()
if pid == 0:
    try:
        os.execvp(argv[0], argv)
    finally:
        os._exit(127)
out = b''

def winsize(rows, cols):
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack('HHHH', rows, cols, 0, 0))

def pump(until):
    global out
    while time.time() < until:
        ready, _, _ = select.select([fd], [], [], 0.05)
        if ready:
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                return False
            if not chunk:
                return False
            out += chunk
    return True

hung, status, open_ = False, None, True
winsize(24, 80)
for step in steps:
    if not open_ or time.time() > deadline:
        break
    if 'winsize' in step:
        winsize(*step['winsize'])  # the kernel sends SIGWINCH to the pty's foreground process group
    elif 'pause' in step:
        open_ = pump(min(deadline, time.time() + step['pause']))
    elif 'send' in step:
        os.write(fd, step['send'].encode())
    elif 'expect' in step:
        mark, want = len(out), step['expect'].encode()
        until = min(deadline, time.time() + step.get('within', 5))
        while want not in out[mark - 200 if mark > 200 else 0 :] and time.time() < until and open_:
            open_ = pump(min(until, time.time() + 0.1))
while time.time() < deadline:
    w, st = os.waitpid(pid, os.WNOHANG)
    if w:
        status = os.waitstatus_to_exitcode(st)
        break
    if open_:
        open_ = pump(time.time() + 0.05)
    else:
        time.sleep(0.05)
if status is None:
    hung = True
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
if open_:
    pump(time.time() + 0.1)
print(json.dumps({'out': out.decode(errors='replace'), 'status': status, 'hung': hung}), flush=True)
