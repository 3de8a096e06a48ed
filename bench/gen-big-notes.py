#!/usr/bin/env python3
# gen-big-notes.py BYTES OUT - a deterministic notebook for the streaming
# import measurement in docs/bench.md ("Import"): notes of ~50 KB, each a date
# line followed by log lines of English and Chinese words (no line starts
# with a date, "#" or a separator), until BYTES are written.  Write OUT in
# the build folder, never commit it.
import random, sys
target, out = int(sys.argv[1]), sys.argv[2]
r = random.Random(42)
eq = ["pump", "chiller", "AHU", "boiler", "compressor", "fan coil", "cooling tower", "冷机", "水泵", "风机"]
verbs = ["tripped on overload", "noisy bearing", "high head pressure", "low suction", "leaking seal",
         "vibration alarm", "won't start", "高压跳闸", "异响", "漏水"]
words = ("checked replaced cleaned reset tightened measured found worn loose dirty filter belt motor "
         "contactor relay sensor valve coil fan breaker pressure current voltage temperature ok again "
         "检查 更换 清洗 复位 电机 皮带 压力 温度 正常").split()
n = 0
with open(out, "w", encoding="utf-8") as f:
    size = 0
    while size < target:
        n += 1
        lines = ["%04d-%02d-%02d %s P-%d %s (note %d)" % (2020 + n % 6, n % 12 + 1, n % 28 + 1,
                 r.choice(eq), n % 97, r.choice(verbs), n)]
        body = 0
        while body < 50000:
            l = "  " + " ".join(r.choice(words) for _ in range(12))
            lines.append(l)
            body += len(l.encode()) + 1
        lines.append("  -zhang" if n % 2 else "  ——张工")
        text = "\n".join(lines) + "\n\n"
        f.write(text)
        size += len(text.encode())
print(n, "notes", file=sys.stderr)
