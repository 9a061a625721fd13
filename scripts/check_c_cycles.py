#!/usr/bin/env python3
"""No two source files of the C side call each other, directly or round a
circle: which file calls which is read from the symbols of the built
objects (nm: a symbol one object leaves undefined and another defines is a
call or a use of its data), for the members of each static library given,
and between the libraries. Prints every circle found and exits 1 if any.

usage: check_c_cycles.py LIB.a...   (e.g. build/libhs_*.a)
"""
import re
import subprocess
import sys


def symbols(archive):
    """{member: (defined, undefined)} of a static library."""
    out = subprocess.run(["nm", "-A", archive], capture_output=True, text=True,
                         check=True).stdout
    members = {}
    for line in out.splitlines():
        # "LIB.a:member.o:0000000000000040 T name" or "LIB.a:member.o:   U name"
        match = re.match(r"^.*:([^:]+\.o):\s*[0-9a-fA-F]*\s+(\S)\s+(\S+)$", line)
        if not match:
            continue
        member, kind, name = match.groups()
        defined, undefined = members.setdefault(member, (set(), set()))
        if kind in "TDRBCG":
            defined.add(name)
        elif kind == "U":
            undefined.add(name)
    return members


def edges(members):
    """{caller: {callee: [symbols]}} among the given objects."""
    owner = {s: m for m, (defined, _) in members.items() for s in defined}
    graph = {m: {} for m in members}
    for m, (_, undefined) in members.items():
        for s in undefined:
            if s in owner and owner[s] != m:
                graph[m].setdefault(owner[s], []).append(s)
    return graph


def circles(graph):
    """The strongly connected components of more than one node (Tarjan)."""
    index, low, stack, on, found, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def report(name, graph):
    bad = circles(graph)
    for component in bad:
        print(f"{name}: a circle among {', '.join(component)}:")
        for m in component:
            for callee, syms in sorted(graph[m].items()):
                if callee in component:
                    print(f"  {m} -> {callee}: {' '.join(sorted(syms))}")
    return len(bad)


def main(archives):
    if not archives:
        sys.exit(__doc__)
    n_bad, libraries = 0, {}
    for archive in archives:
        members = symbols(archive)
        n_bad += report(archive, edges(members))
        libraries[archive] = (set().union(*(d for d, _ in members.values())),
                              set().union(*(u for _, u in members.values())))
    n_bad += report("between the libraries", edges(libraries))
    print(f"{len(archives)} libraries: " + ("no circle" if not n_bad else f"{n_bad} circle(s)"))
    return 1 if n_bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
