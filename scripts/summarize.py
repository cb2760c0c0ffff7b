#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause
"""The test results of ./scripts/test: one line per test program, and the total.

Every test program ends its output with 'N passed, N failed, N skipped' (tests/harness.h; a
program that exits 77 without it counts as one skipped, one that exits 0 without it as one
passed). A program that exits badly without counting a failure (a crash, a sanitizer report, a
timeout) counts one failure. Results go to a file of JSON lines, one record per program:
{"label", "name", "result", "seconds", "passed", "failed", "skipped"}.

  summarize.py stream LABEL RESULTS LOG [TESTLOG_JSON]
      stdin: the output of 'meson test --verbose --num-processes 1'. Writes it all to LOG,
      prints one line per program as it finishes (the end of its output when it failed), and
      appends the records to RESULTS. After meson ends, TESTLOG_JSON (meson's own log of the
      run) supplies any program the stream did not show. Exit 1 when a program failed.
  summarize.py record LABEL NAME OK|FAIL|SKIP SECONDS [PASSED FAILED SKIPPED] RESULTS
      one result that is not a meson test (the ABI check, a fuzz target).
  summarize.py total RESULTS
      per label 'LABEL: N programs (N ok, N failed, N skipped): N passed, N failed, N skipped',
      the failed programs, and the last line 'N passed, N failed, N skipped'. Exit 1 on any
      failure.
"""
import json
import re
import sys

COUNTS = re.compile(r'^(\d+) passed, (\d+) failed(?:, (\d+) skipped)?\s*$', re.M)
RESULT = re.compile(r'^\s*\d+/\d+ (?P<name>.+?)\s+(?P<res>OK|FAIL|SKIP|EXPECTEDFAIL|UNEXPECTEDPASS'
                    r'|TIMEOUT|ERROR|INTERRUPT)\s+(?P<secs>[\d.]+)s\b(?P<rest>.*)$')
RUNNING = re.compile(r'^\s*\d+/\d+ (?P<name>.+?)\s+RUNNING\s*$')
TAIL = 30


def counts(output, res):
    """(passed, failed, skipped) of one program from its output and meson's result."""
    m = COUNTS.findall(output)
    if m:
        p, f, s = (int(x or 0) for x in m[-1])
    else:
        p, f, s = (1, 0, 0) if res == 'OK' else (0, 0, 1) if res == 'SKIP' else (0, 1, 0)
    if res not in ('OK', 'SKIP', 'EXPECTEDFAIL') and f == 0:
        f = 1
    return p, f, s


def short(name):
    """'fuse-backend:unit / abi' -> 'unit/abi'."""
    m = re.match(r'^[^:]+:(\S+) / (.+)$', name)
    return f'{m.group(1)}/{m.group(2)}' if m else name


def show(rec, extra=''):
    what = 'FAIL' if rec['failed'] else 'ok' if rec['passed'] or not rec['skipped'] else 'skip'
    print(f"{what:<4} {rec['label']:<7} {rec['name']:<26} {rec['seconds']:7.1f}s  "
          f"{rec['passed']} passed, {rec['failed']} failed, {rec['skipped']} skipped{extra}",
          flush=True)


def record(results, rec):
    with open(results, 'a') as f:
        f.write(json.dumps(rec) + '\n')


def stream(label, results, log, testlog=None):
    seen = set()
    out = []
    done = False
    failed = False
    with open(log, 'a') as lf:
        for line in sys.stdin:
            lf.write(line)
            lf.flush()
            if done:
                continue
            if line.startswith('Summary of Failures') or re.match(r'^Ok:\s+\d', line):
                done = True  # meson repeats failed results below: not new ones
                continue
            if RUNNING.match(line):
                out = []
                continue
            m = RESULT.match(line)
            if not m:
                out.append(line)
                continue
            name = short(m.group('name'))
            if name in seen:
                continue
            seen.add(name)
            text = ''.join(out)
            p, f, s = counts(text, m.group('res'))
            failed = failed or f
            rec = {'label': label, 'name': name, 'result': m.group('res'),
                   'seconds': float(m.group('secs')), 'passed': p, 'failed': f, 'skipped': s}
            record(results, rec)
            show(rec, f"  ({m.group('res')}: {m.group('rest').strip()})" if f else '')
            if f:
                # the end of its output, without the lines of passed tests
                for t in [t for t in out if not t.startswith('ok ')][-TAIL:]:
                    print('     | ' + t.rstrip('\n'), flush=True)
                print(f'     | (all of it: {log})', flush=True)
            out = []
    if testlog:
        try:
            lines = open(testlog).read().splitlines()
        except OSError:
            lines = []
        for raw in lines:
            if not raw.strip():
                continue
            t = json.loads(raw)
            name = short(t['name'])
            if name in seen:
                continue
            text = (t.get('stdout') or '') + '\n' + (t.get('stderr') or '')
            p, f, s = counts(text, t.get('result', ''))
            rec = {'label': label, 'name': name, 'result': t.get('result', ''),
                   'seconds': float(t.get('duration') or 0), 'passed': p, 'failed': f,
                   'skipped': s}
            record(results, rec)
            show(rec)
            seen.add(name)
            failed = failed or f
    return 1 if failed else 0


def total(results):
    recs = []
    try:
        for raw in open(results).read().splitlines():
            if raw.strip():
                recs.append(json.loads(raw))
    except OSError as e:
        print(f'no results ({e})')
        recs.append({'label': '-', 'name': 'results', 'failed': 1, 'passed': 0,
                     'skipped': 0, 'result': 'FAIL', 'seconds': 0})
    labels = []
    for r in recs:
        if r['label'] not in labels:
            labels.append(r['label'])
    grand = [0, 0, 0]
    for label in labels:
        rs = [r for r in recs if r['label'] == label]
        n_fail = sum(1 for r in rs if r['failed'])
        n_skip = sum(1 for r in rs if not r['failed'] and not r['passed'] and r['skipped'])
        sums = [sum(r[k] for r in rs) for k in ('passed', 'failed', 'skipped')]
        secs = sum(r['seconds'] for r in rs)
        print(f'{label}: {len(rs)} programs ({len(rs) - n_fail - n_skip} ok, {n_fail} failed, '
              f'{n_skip} skipped) in {secs:.0f}s: {sums[0]} passed, {sums[1]} failed, '
              f'{sums[2]} skipped')
        grand = [a + b for a, b in zip(grand, sums)]
    for r in recs:
        if r['failed']:
            print(f"failed: {r['label']}: {r['name']}: {r['result']}")
    print(f'{grand[0]} passed, {grand[1]} failed, {grand[2]} skipped')
    return 1 if grand[1] else 0


def main(argv):
    if len(argv) >= 5 and argv[1] == 'stream':
        return stream(argv[2], argv[3], argv[4], argv[5] if len(argv) > 5 else None)
    if len(argv) in (7, 10) and argv[1] == 'record':
        label, name, res, secs = argv[2:6]
        if len(argv) == 10:
            p, f, s = (int(x) for x in argv[6:9])
        else:
            p, f, s = (1, 0, 0) if res == 'OK' else (0, 0, 1) if res == 'SKIP' else (0, 1, 0)
        rec = {'label': label, 'name': name, 'result': res, 'seconds': float(secs),
               'passed': p, 'failed': f, 'skipped': s}
        record(argv[-1], rec)
        show(rec)
        return 0
    if len(argv) == 3 and argv[1] == 'total':
        return total(argv[2])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == '__main__':
    sys.exit(main(sys.argv))
