#!/usr/bin/env python3
# A console socket as conmon or containerd-shim has one (runc's protocol):
# listens on SOCKET, takes one pty master sent with SCM_RIGHTS, writes INPUT
# to it and reads what comes back until the pty closes or DEADLINE seconds
# pass. Prints one JSON line: {"name": the message sent with the fd, "out": …}.
import array, json, os, select, socket, sys, time

sock_path, text, deadline = sys.argv[1], sys.argv[2], time.time() + float(sys.argv[3])
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(sock_path)
s.listen(1)
s.settimeout(max(0.1, deadline - time.time()))
conn, _ = s.accept()
fds = array.array('i')
msg, anc, _, _ = conn.recvmsg(4096, socket.CMSG_LEN(fds.itemsize))
for level, kind, data in anc:
    if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
        fds.frombytes(data[: fds.itemsize])
if not fds:  # the runtime failed before it had a pty to send
    print(json.dumps({'name': msg.decode(), 'out': '', 'nofd': True}), flush=True)
    sys.exit(0)
master = fds[0]
os.write(master, text.encode())
out = b''
while time.time() < deadline:
    ready, _, _ = select.select([master], [], [], 0.2)
    if not ready:
        continue
    try:
        chunk = os.read(master, 65536)
    except OSError:  # EIO: no slave left open
        break
    if not chunk:
        break
    out += chunk
print(json.dumps({'name': msg.decode(), 'out': out.decode(errors='replace')}), flush=True)
