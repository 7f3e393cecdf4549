#!/usr/bin/env python3
"""Fails when modules of one crate depend on each other in a circle.

Every file under a crate's src/ is a module; a path `crate::a::b` or `super::c` in it (in `use` or
in code) is a dependency on the deepest module it names. A dependency counts between the two
sibling modules under the deepest module both sit in (a parent using its child, or a child its
parent, is no dependency between siblings). A circle among siblings is printed and fails.
Usage: scripts/module-cycles.py [CRATE_DIR ...] (default: every crate of the workspace).
"""
import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
PATH = re.compile(r"\b(crate|super|self)((?:::[A-Za-z_][A-Za-z0-9_]*)*)(::\{)?")


def module_of(src: pathlib.Path, file: pathlib.Path) -> tuple:
    parts = list(file.relative_to(src).with_suffix("").parts)
    if parts[-1] in ("mod", "lib", "main"):
        parts = parts[:-1]
    return tuple(parts)


def braced(text: str, start: int) -> list:
    """The comma-separated paths of the `{...}` opening at `start`, nested braces flattened."""
    depth, i, out, cur = 1, start, [], ""
    while i < len(text) and depth:
        c = text[i]
        if c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
        if depth == 1 and c == ",":
            out.append(cur)
            cur = ""
        elif depth >= 1 and not (depth == 1 and c == "{"):
            cur += c
        i += 1
    out.append(cur)
    return [p.strip().split("::")[0].strip("{} ") for p in out if p.strip()]


def edges(src: pathlib.Path, modules: set) -> set:
    found = set()
    for file in src.rglob("*.rs"):
        here = module_of(src, file)
        is_mod_file = file.name in ("mod.rs", "lib.rs", "main.rs")
        text = re.sub(r"//[^\n]*", "", file.read_text())
        for m in PATH.finditer(text):
            head, rest, brace = m.group(1), m.group(2), m.group(3)
            segs = [s for s in rest.split("::") if s]
            if head == "crate":
                base = ()
            elif head == "self":
                base = here
            else:  # super: the parent of this module
                base = here[:-1]
                while segs and segs[0] == "super":
                    base, segs = base[:-1], segs[1:]
            targets = [segs]
            if brace:
                targets = [segs + [p] for p in braced(text, m.end())]
            for t in targets:
                path = base + tuple(t)
                while path and path not in modules:
                    path = path[:-1]
                if path != here:
                    found.add((here, path))
    return found


def sibling_edges(found: set) -> dict:
    graph = {}
    for a, b in found:
        n = 0
        while n < min(len(a), len(b)) and a[n] == b[n]:
            n += 1
        if n == len(a) or n == len(b):
            continue  # one contains the other
        graph.setdefault(a[: n + 1], set()).add(b[: n + 1])
    return graph


def circles(graph: dict) -> list:
    index, low, stack, on, out, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in list(graph):
        if v not in index:
            visit(v)
    return out


def main() -> int:
    crates = [pathlib.Path(a) for a in sys.argv[1:]] or sorted(p.parent for p in ROOT.glob("*/src"))
    failed = 0
    for crate in crates:
        src = crate / "src"
        modules = {module_of(src, f) for f in src.rglob("*.rs")}
        for comp in circles(sibling_edges(edges(src, modules))):
            names = ", ".join("::".join(m) for m in comp)
            print(f"{crate.name}: modules in a circle: {names}")
            failed += 1
    if not failed:
        print(f"no circle between the modules of {len(crates)} crate(s)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
