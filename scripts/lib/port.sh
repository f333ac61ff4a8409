# Sourced by the acceptance scripts (through serve.sh) and the benchmarks.
# free_port prints a loopback port free a moment ago, picked below the
# kernel's ephemeral range: a port the kernel chose for a bind to port 0 can
# be handed out next as an outgoing connection's source port (the Go tests
# running beside this script make thousands), and the server's listen would
# then fail. Below the range only another explicit bind can take it.
free_port() {
  python3 - <<'PY'
import random, socket
try:
    lo = int(open("/proc/sys/net/ipv4/ip_local_port_range").read().split()[0])
except (OSError, ValueError, IndexError):
    lo = 0
candidates = [random.randrange(10000, lo) for _ in range(200)] if lo > 11000 else []
for port in candidates + [0]:
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", port))
        print(s.getsockname()[1])
        break
    except OSError:
        pass
    finally:
        s.close()
PY
}
