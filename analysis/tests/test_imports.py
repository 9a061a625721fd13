"""The package's modules import one way (no circle, docs/RESULTS.md "How
the Python package is built"): read from each module's own `import` and
`from` statements (inside functions too), not by importing it. Also: only
the points table among the reading modules imports the derived columns,
and a module over 400 lines says why in its opening comment."""
import ast
import os
import unittest

PACKAGE = os.environ.get("HEADSPEC_PACKAGE_DIR") or os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "headspec")
READING = ("reader", "schema", "strings", "errors", "layout_current", "legacy", "fields",
           "checks", "integrity")
LONG = 400


def modules():
    return sorted(f[:-3] for f in os.listdir(PACKAGE) if f.endswith(".py"))


def source(name):
    with open(os.path.join(PACKAGE, name + ".py")) as fh:
        return fh.read()


def imports(name, known):
    """The package modules module `name` imports (relative imports)."""
    out = set()
    for node in ast.walk(ast.parse(source(name))):
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            if node.module:  # from .x import y
                out.add(node.module.split(".")[0])
            else:            # from . import x, y
                out.update(a.name for a in node.names if a.name in known)
        elif isinstance(node, ast.ImportFrom) and node.module and \
                node.module.startswith("headspec."):
            out.add(node.module.split(".")[1])
    return out & set(known) - {name}


def circle(graph):
    """One import circle as a list of modules ([] if none)."""
    state, stack = {}, []

    def visit(m):
        state[m] = "open"
        stack.append(m)
        for n in sorted(graph[m]):
            if state.get(n) == "open":
                return stack[stack.index(n):] + [n]
            if n not in state:
                found = visit(n)
                if found:
                    return found
        state[m] = "done"
        stack.pop()
        return []

    for m in sorted(graph):
        if m not in state:
            found = visit(m)
            if found:
                return found
    return []


class TestImports(unittest.TestCase):
    def setUp(self):
        known = modules()
        self.graph = {m: imports(m, known) for m in known}

    def test_finds_a_circle(self):
        """The search itself, on a made-up graph: a -> b -> c -> a."""
        self.assertEqual(circle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}),
                         ["a", "b", "c", "a"])
        self.assertEqual(circle({"a": {"b"}, "b": set()}), [])

    def test_no_import_circle(self):
        self.assertEqual(circle(self.graph), [], "import circle: %s" %
                         " -> ".join(circle(self.graph)))

    def test_only_the_points_table_imports_derived(self):
        users = [m for m in READING if m in self.graph and "derived" in self.graph[m]]
        self.assertEqual(users, [])
        self.assertIn("derived", self.graph["points_table"])

    def test_long_modules_say_why(self):
        for m in modules():
            text = source(m)
            if text.count("\n") > LONG:
                doc = ast.get_docstring(ast.parse(text)) or ""
                self.assertIn("lines", doc, "%s.py has %d lines and no reason in its opening "
                              "comment" % (m, text.count("\n")))


if __name__ == "__main__":
    unittest.main()
