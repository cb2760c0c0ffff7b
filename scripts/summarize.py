#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause
"""Sum the results of meson test logs: each test binary ends with 'N passed, N failed, N skipped'.

Usage: summarize.py LABEL testlog.json [LABEL testlog.json ...]
Prints one line per failed binary and a final 'N passed, N failed, N skipped' line; a binary that
exited badly without counting a failure (a crash, a sanitizer report, a timeout) counts as one.
"""
import json
import re
import sys

LINE = re.compile(r'^(\d+) passed, (\d+) failed(?:, (\d+) skipped)?\s*$', re.M)


def main(argv):
    total = [0, 0, 0]
    pairs = list(zip(argv[1::2], argv[2::2]))
    for label, path in pairs:
        try:
            lines = open(path).read().splitlines()
        except OSError as e:
            print(f'{label}: no test log ({e})')
            total[1] += 1
            continue
        for raw in lines:
            if not raw.strip():
                continue
            t = json.loads(raw)
            out = (t.get('stdout') or '') + '\n' + (t.get('stderr') or '')
            m = LINE.findall(out)
            res = t.get('result', '')
            if m:
                p, f, s = (int(x or 0) for x in m[-1])
            else:
                p, f, s = (1, 0, 0) if res == 'OK' else (0, 0, 1) if res == 'SKIP' else (0, 1, 0)
            if res not in ('OK', 'SKIP', 'EXPECTEDFAIL') and f == 0:
                f = 1
            if f:
                print(f'{label}: {t["name"]}: {res}')
            total[0] += p
            total[1] += f
            total[2] += s
    print(f'{total[0]} passed, {total[1]} failed, {total[2]} skipped')
    return 1 if total[1] else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
