#!/usr/bin/python3
"""check_doc_links.py [TOP]: every relative link and #anchor (GitHub's heading
slugs) in README.md and docs/*.md resolves, and no link or path written in
the text (`../x`, outside code blocks) points outside the repository, where
a clone does not have it; prints each bad one, exit 1 if any."""
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
top = os.path.normpath(os.path.abspath(root))
def outside(path):
    return os.path.commonpath([top, os.path.normpath(os.path.abspath(path))]) != top
def prose(text):
    """text without indented code blocks, whose paths hang on a `cd` before them"""
    return "\n".join(l for l in text.split("\n") if not re.match(r"( {4}|\t)", l))
def escapes(f, rel):
    """whether a path written in f leaves the repository, read from f's
    folder or, where that names nothing, from the top (as README's are)"""
    here = os.path.join(os.path.dirname(f), rel)
    return outside(here) or (not os.path.exists(here) and outside(os.path.join(top, rel)))
bad = 0
files = [os.path.join(root, "README.md")] + sorted(glob.glob(os.path.join(root, "docs", "*.md")))
for f in files:
    text = re.sub(r"```.*?```", "", open(f).read(), flags=re.S)
    body = prose(text)
    for m in re.finditer(r"(?<![\w./])((?:\.\./)+[\w.\-/]*)", body):
        if body[max(m.start() - 2, 0):m.start()] != "](" and escapes(f, m.group(1)):
            print("%s: %s is outside the repository" % (f, m.group(1))); bad += 1
    for m in re.finditer(r"\]\(([^)\s]+)\)", text):
        url = m.group(1)
        if re.match(r"[a-z]+:", url): continue
        path, _, frag = url.partition("#")
        target = os.path.normpath(os.path.join(os.path.dirname(f), path)) if path else f
        if outside(target):
            print("%s: link %s leaves the repository" % (f, url)); bad += 1; continue
        if not os.path.exists(target):
            print("%s: missing %s" % (f, url)); bad += 1; continue
        if frag and target.endswith(".md") and frag not in anchors(target):
            print("%s: no anchor #%s in %s" % (f, frag, target)); bad += 1
print("%d bad links in %d files" % (bad, len(files)))
sys.exit(1 if bad else 0)
