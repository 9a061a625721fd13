#!/usr/bin/python3
"""check_doc_links.py [TOP]: every relative link and #anchor (GitHub's heading
slugs) in README.md and docs/*.md resolves; prints each bad one, exit 1 if any."""
import glob, os, re, sys
here = os.path.dirname(os.path.abspath(__file__))
root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "..")
def slug(h):
    h = re.sub(r"[`*_]", lambda m: "_" if m.group() == "_" else "", h.strip().lower())
    h = re.sub(r"[^\w\- ]", "", h)
    return h.replace(" ", "-")
def anchors(path):
    out, seen, fence = set(), {}, False
    for line in open(path):
        if line.startswith("```"): fence = not fence
        if fence: continue
        m = re.match(r"#{1,6} (.*)", line)
        if m:
            s = slug(m.group(1)); n = seen.get(s, 0); seen[s] = n + 1
            out.add(s if n == 0 else "%s-%d" % (s, n))
    return out
bad = 0
files = [os.path.join(root, "README.md")] + sorted(glob.glob(os.path.join(root, "docs", "*.md")))
for f in files:
    text = re.sub(r"```.*?```", "", open(f).read(), flags=re.S)
    for m in re.finditer(r"\]\(([^)\s]+)\)", text):
        url = m.group(1)
        if re.match(r"[a-z]+:", url): continue
        path, _, frag = url.partition("#")
        target = os.path.normpath(os.path.join(os.path.dirname(f), path)) if path else f
        if not os.path.exists(target):
            print("%s: missing %s" % (f, url)); bad += 1; continue
        if frag and target.endswith(".md") and frag not in anchors(target):
            print("%s: no anchor #%s in %s" % (f, frag, target)); bad += 1
print("%d bad links in %d files" % (bad, len(files)))
sys.exit(1 if bad else 0)
