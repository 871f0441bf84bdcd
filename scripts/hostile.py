#!/usr/bin/env python3
"""scripts/hostile.py: hostile clients for scripts/check-hostile.sh.

  loop HOST PORT NAME LOOPS      the issue-19 loop on the peer port: HELLO
                                 claiming NAME, a REPLY of 16 zero bytes, two
                                 other connections opened and closed, again
  bigframes HOST PORT N          N connections each announcing a 16 MiB frame
                                 and sending 64 KiB of it; prints how many the
                                 daemon closed
  idle HOST PORT N SRC SECONDS   N idle connections from SRC held SECONDS
  http HOST PORT                 a 1 MB URL and a 200 KB header: prints the
                                 two status lines and the seconds taken
Frames are 4-byte big-endian lengths then the bytes (shims/posix/px_links.c);
the HELLO layout is core/conn_handshake.c's.
"""
import os, re, select, socket, struct, sys, time


def protocol_version():
    """CONN_PROTOCOL_VERSION as core/conn.h defines it, so that the HELLO
    this script sends is the daemon's own version and a refusal is the
    proof's, not the version's."""
    header = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "core", "conn.h")
    with open(header) as f:
        m = re.search(r"#define CONN_PROTOCOL_VERSION (\d+)", f.read())
    if not m:
        sys.exit("hostile.py: no CONN_PROTOCOL_VERSION in core/conn.h")
    return int(m.group(1))


VERSION = protocol_version()


def frame(b):
    return struct.pack(">I", len(b)) + b


def s16(t):
    return struct.pack("<H", len(t)) + t


def hello(name, dialled, creation=5):
    return bytes([1]) + struct.pack("<H", VERSION) + s16(name) + s16(dialled) + struct.pack("<IQ", creation, 42)


SRC = "127.0.0.9"  # the attacker's own address, so per-address caps tell it apart


def conn(host, port):
    return socket.create_connection((host, port), timeout=2, source_address=(SRC, 0))


def loop(host, port, name, loops):
    name = name.encode()
    me = ("app@%s" % host).encode()
    for _ in range(loops):
        a = conn(host, port)
        a.sendall(frame(hello(name, me)))
        try:
            a.recv(4096)  # the CHALLENGE
        except OSError:
            pass
        a.sendall(frame(bytes([3]) + bytes(16)))
        for _ in range(2):
            conn(host, port).close()
        b = conn(host, port)
        b.sendall(frame(hello(name, me)))
        a.close()
        b.close()
    print("loops", loops)


def bigframes(host, port, n):
    socks = []
    for _ in range(n):
        s = conn(host, port)
        s.sendall(struct.pack(">I", 16 << 20))
        socks.append(s)
    closed = 0
    for s in socks:
        try:
            s.settimeout(2)
            s.sendall(bytes(65536))
            s.recv(1)  # the daemon closes: EOF or reset
            closed += 1
        except (ConnectionResetError, BrokenPipeError):
            closed += 1
        except OSError:
            pass
        s.close()
    print("closed", closed)


def idle(host, port, n, src, seconds):
    socks = []
    for _ in range(n):
        try:
            s = socket.socket()
            s.bind((src, 0))
            s.settimeout(2)
            s.connect((host, port))
            socks.append(s)
        except OSError:
            pass
    print("opened", len(socks), flush=True)
    time.sleep(seconds)
    for s in socks:
        s.close()


def request_once(host, port, data):
    """Sends `data` while watching for the answer: a server that refuses an
    oversized request answers and closes before it has read everything, so
    a send may fail with EPIPE after the answer arrived."""
    s = conn(host, port)
    s.setblocking(False)
    t = time.time()
    sent, answer = 0, b""
    while time.time() - t < 3 and b"\r\n" not in answer:
        readable, writable, _ = select.select([s], [s] if sent < len(data) else [], [], 0.5)
        try:
            if readable:
                chunk = s.recv(200)
                if not chunk:
                    break
                answer += chunk
            elif writable:
                sent += s.send(data[sent:sent + 65536])
        except (BrokenPipeError, ConnectionResetError):
            sent = len(data)  # the server stopped reading: look for its answer
            try:
                answer += s.recv(200)
            except OSError:
                break
    s.close()
    line = answer.split(b"\r\n")[0].decode(errors="replace") or "error: no answer"
    return line, time.time() - t


def request(host, port, data):
    # An answer lost to the reset that follows it is retried, twice at most.
    for _ in range(3):
        line, secs = request_once(host, port, data)
        if line.startswith("HTTP/"):
            break
    return line, secs


def http(host, port):
    for data in (b"GET /" + b"a" * 1000000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
                 b"GET /livez HTTP/1.1\r\nHost: x\r\nX-Big: " + b"b" * 200000 + b"\r\n\r\n"):
        line, secs = request(host, port, data)
        print("%s | %.3f" % (line, secs))


if __name__ == "__main__":
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "loop":
        loop(args[0], int(args[1]), args[2], int(args[3]))
    elif cmd == "bigframes":
        bigframes(args[0], int(args[1]), int(args[2]))
    elif cmd == "idle":
        idle(args[0], int(args[1]), int(args[2]), args[3], float(args[4]))
    elif cmd == "http":
        http(args[0], int(args[1]))
