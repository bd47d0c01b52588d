"""The cache lines one thread writes and the other writes or reads, from a lackey trace of
capi/examples/shared_writes.rs: python3 shared_writes.py TRACE MARK_ADDRESS N (see shared_writes.sh)."""
import re
import sys

mark = int(sys.argv[2], 16)
n = int(sys.argv[3])
# Per thread (1: A, 3: B, the phase numbers between the marks): cache line -> stores, loads.
W = {1: {}, 3: {}}
R = {1: {}, 3: {}}
phase = 0
pat = re.compile(r"^ ([SML]) ([0-9a-f]+),(\d+)")
for row in open(sys.argv[1]):
    m = pat.match(row)
    if not m:
        continue
    addr = int(m.group(2), 16)
    if addr == mark:
        if m.group(1) != "L":
            phase += 1
        continue
    if phase in (1, 3):
        line = addr // 64
        if m.group(1) in "SM":
            W[phase][line] = W[phase].get(line, 0) + 1
        if m.group(1) in "LM":
            R[phase][line] = R[phase].get(line, 0) + 1
if phase != 4:
    sys.exit(f"expected 4 marks, saw {phase}")
name = {1: "A", 3: "B"}
shared = 0
per_decision = 0
for a, b in ((1, 3), (3, 1)):
    for line in sorted(set(W[a]) & (set(W[b]) | set(R[b]))):
        shared += 1
        hot = W[a][line] >= n
        per_decision += hot
        print(f"  line {line * 64:#x}: {name[a]} writes it {W[a][line]}x; {name[b]} writes it "
              f"{W[b].get(line, 0)}x, reads it {R[b].get(line, 0)}x{'  <- every decision' if hot else ''}")
print(f"  lines written by A: {len(W[1])}, by B: {len(W[3])}; written by one and touched by the other: "
      f"{shared}; of those written on every decision: {per_decision}")
if per_decision:
    sys.exit("a line is written on every decision by one thread and used by the other: decisions contend")
