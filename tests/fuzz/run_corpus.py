#!/usr/bin/python3
"""Run `headspec validate` on every job file of the fuzz corpus: each must
either validate (exit 0) or be refused with exit 2 and
"headspec: FILE:LINE: message". A crash, any other exit status, a sanitizer
report, a timeout or a peak memory over the bound fails the test.

    run_corpus.py HEADSPEC CORPUS_DIR [--max-mib N] [--timeout S]
"""
import os
import re
import resource
import subprocess
import sys


def main():
    args = sys.argv[1:]
    opts = {"--max-mib": 1024, "--timeout": 120}
    for o in list(opts):
        if o in args:
            i = args.index(o)
            opts[o] = float(args[i + 1])
            del args[i:i + 2]
    headspec, corpus = args
    files = sorted(f for f in os.listdir(corpus) if f.endswith(".yaml"))
    fails, valid, refused, peak = [], 0, 0, 0
    for name in files:
        path = os.path.join(corpus, name)
        try:
            before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
            r = subprocess.run([headspec, "validate", path], capture_output=True,
                               timeout=opts["--timeout"])
            # ru_maxrss of children is the largest child so far (KiB)
            rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
            peak = max(peak, rss)
        except subprocess.TimeoutExpired:
            fails.append(f"{name}: no answer in {opts['--timeout']:.0f} s")
            continue
        err = r.stderr.decode("utf-8", "replace")
        why = None
        if re.search(r"Sanitizer|runtime error:|LeakSanitizer", err):
            why = "sanitizer report"
        elif r.returncode == 0:
            valid += 1
        elif r.returncode == 2 and re.match(r"headspec: " + re.escape(path) + r":\d+: \S", err):
            refused += 1
        else:
            why = f"exit {r.returncode}"
        if rss > before and rss > opts["--max-mib"] * 1024:
            why = f"peak memory {rss / 1024:.0f} MiB over {opts['--max-mib']:.0f} MiB"
        if why:
            fails.append(f"{name}: {why}:\n    " + "\n    ".join(err.splitlines()[:20]))
    for f in fails:
        print("FAIL " + f)
    print(f"fuzz_jobs: {len(files)} files: {valid} valid, {refused} refused with FILE:LINE, "
          f"{len(fails)} failed; largest peak memory {peak / 1024:.0f} MiB")
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
