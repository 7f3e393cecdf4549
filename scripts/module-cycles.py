#!/usr/bin/env python3
"""Fails when modules of one crate depend on each other in a circle.

Every file under a crate's src/ is a module. A dependency is:
  - a path in code or in `use`: `crate::a::b`, `super::c`, `self::d` (nested `{…}` groups
    included), resolved to the deepest module it names, through the crate's `pub use`
    re-exports (`crate::Engine` is the module that defines Engine);
  - a macro call `name!` of a `macro_rules! name` another module defines.
`super` counts from the inline `mod … {}` block it is written in (a test module's `super` is the
file's module). Comments and string literals are not read. A dependency counts between the two
sibling modules under the deepest module both sit in (a parent using its child, or a child its
parent, is no dependency between siblings); a circle among siblings is printed and fails.

Usage: scripts/module-cycles.py [CRATE_DIR ...]   (default: every crate of the workspace)
       scripts/module-cycles.py --self-test       (the cases above, on crates made for the test)
"""
import pathlib
import re
import sys
import tempfile

ROOT = pathlib.Path(__file__).resolve().parent.parent
IDENT = r"[A-Za-z_][A-Za-z0-9_]*"
PATH_START = re.compile(rf"\b(crate|super|self)\s*::")
INLINE_MOD = re.compile(rf"\bmod\s+({IDENT})\s*\{{")
MACRO_DEF = re.compile(rf"\bmacro_rules!\s*({IDENT})")
MACRO_USE = re.compile(rf"(?<![A-Za-z0-9_])({IDENT})!\s*[\(\[\{{]")
PUB_USE = re.compile(r"\bpub(?:\([^)]*\))?\s+use\s+([^;]+);")


def code_only(text: str) -> str:
    """`text` with comments and string/char literals blanked (same length, newlines kept)."""
    out, i, n = [], 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            out.append(" " * (j - i))
            i = j
        elif text.startswith("/*", i):
            depth, j = 1, i + 2
            while j < n and depth:
                if text.startswith("/*", j):
                    depth, j = depth + 1, j + 2
                elif text.startswith("*/", j):
                    depth, j = depth - 1, j + 2
                else:
                    j += 1
            out.append(re.sub(r"[^\n]", " ", text[i:j]))
            i = j
        elif re.match(r'(?:b?r(#*)")', text[i:i + 40]) and (i == 0 or not (text[i - 1].isalnum() or text[i - 1] == "_")):
            m = re.match(r'b?r(#*)"', text[i:])
            end = text.find('"' + m.group(1), i + m.end())
            j = n if end < 0 else end + 1 + len(m.group(1))
            out.append(re.sub(r"[^\n]", " ", text[i:j]))
            i = j
        elif c == '"':
            j = i + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            out.append(re.sub(r"[^\n]", " ", text[i:j + 1]))
            i = j + 1
        elif c == "'" and re.match(r"'(\\.[^']*|[^\\'])'", text[i:i + 12]):
            m = re.match(r"'(\\.[^']*|[^\\'])'", text[i:])
            out.append(" " * m.end())
            i += m.end()
        else:
            out.append(c)
            i += 1
    return "".join(out)


def module_of(src: pathlib.Path, file: pathlib.Path) -> tuple:
    parts = list(file.relative_to(src).with_suffix("").parts)
    if parts[-1] in ("mod", "lib", "main"):
        parts = parts[:-1]
    return tuple(parts)


def inline_blocks(code: str) -> list:
    """`(start, end, name)` of each inline `mod name { … }`."""
    blocks = []
    for m in INLINE_MOD.finditer(code):
        depth, j = 1, m.end()
        while j < len(code) and depth:
            depth += {"{": 1, "}": -1}.get(code[j], 0)
            j += 1
        blocks.append((m.start(), j, m.group(1)))
    return blocks


def group_paths(text: str) -> list:
    """The paths of a `use` tree (`a::{b, c::{d, e as f}}`), each as a list of segments (an
    alias kept after `@`: `e@f`)."""
    text = re.sub(r"\s+", "", re.sub(r"\s+as\s+", "@", text))
    depth, parts, cur = 0, [], ""
    for c in text:
        if c == "," and depth == 0:
            parts.append(cur)
            cur = ""
            continue
        depth += {"{": 1, "}": -1}.get(c, 0)
        cur += c
    parts.append(cur)
    paths = []
    for p in filter(None, parts):
        head, brace, rest = p.partition("::{")
        if brace:
            for sub in group_paths(rest[:-1]):
                paths.append(head.split("::") + sub)
        elif p.startswith("{"):
            paths.extend(group_paths(p[1:-1]))
        else:
            paths.append(p.split("::"))
    return paths


def leaf(segments: list) -> tuple:
    """(what a use path names, the name it is known by here): `a::B as C` → ("B", "C")."""
    name, _, alias = segments[-1].partition("@")
    return name, alias or name


class Crate:
    def __init__(self, src: pathlib.Path):
        self.src = src
        self.files = {f: module_of(src, f) for f in sorted(src.rglob("*.rs"))}
        self.modules = set(self.files.values())
        self.code = {f: code_only(f.read_text()) for f in self.files}
        self.reexports = {}
        self.macros = {}
        for f, here in self.files.items():
            for m in MACRO_DEF.finditer(self.code[f]):
                self.macros.setdefault(m.group(1), here)
        for f, here in self.files.items():
            for m in PUB_USE.finditer(self.code[f]):
                for segs in group_paths(m.group(1)):
                    name, known_as = leaf(segs)
                    target = self.resolve(here, (), segs[:-1] + [name])
                    if target is not None and target != here:
                        self.reexports[(here, known_as)] = target

    def resolve(self, here: tuple, inline: tuple, segs: list):
        """The module a path written in `here` (inside inline modules `inline`) names."""
        if not segs:
            return None
        head, rest = segs[0], list(segs[1:])
        if head == "crate":
            base = ()
        elif head in ("self", "super"):
            base = here + inline
            if head == "super":
                base = base[:-1]
            while rest and rest[0] == "super":
                base, rest = base[:-1], rest[1:]
        elif here + inline + (head,) in self.modules:
            base, rest = here + inline, list(segs)  # a child module, named as in `use a::B`
        else:
            return None
        path = base
        for seg in rest:
            if seg in ("self", "*", ""):
                break
            if path + (seg,) in self.modules:
                path += (seg,)
            elif (path, seg) in self.reexports:
                path = self.reexports[(path, seg)]
                break
            else:
                break
        while path and path not in self.modules:
            path = path[:-1]  # an inline module: its file's module
        return path

    def edges(self) -> set:
        found = set()
        for f, here in self.files.items():
            code = self.code[f]
            blocks = inline_blocks(code)
            for m in PATH_START.finditer(code):
                inline = tuple(name for start, end, name in blocks if start < m.start() < end)
                tail = re.match(rf"(?:\s*::\s*(?:{IDENT}|\*))*(?:\s*::\s*\{{)?", code[m.end() - 2:])
                text = code[m.start():m.end() - 2 + tail.end()]
                if text.endswith("{"):
                    depth, j = 1, m.end() - 2 + tail.end()
                    while j < len(code) and depth:
                        depth += {"{": 1, "}": -1}.get(code[j], 0)
                        j += 1
                    text = code[m.start():j]
                for segs in group_paths(text):
                    target = self.resolve(here, inline, [s.partition("@")[0] for s in segs])
                    if target is not None and target != here:
                        found.add((here, target))
            for m in MACRO_USE.finditer(code):
                target = self.macros.get(m.group(1))
                if target is not None and target != here:
                    found.add((here, target))
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
    """Strongly connected components of more than one module (Tarjan)."""
    index, low, stack, on, out = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in sorted(graph.get(v, ())):
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

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def crate_circles(crate_dir: pathlib.Path) -> list:
    return circles(sibling_edges(Crate(crate_dir / "src").edges()))


def self_test() -> int:
    cases = {
        # name: ({file: text}, the circle expected, or [] for none)
        "direct": ({"lib.rs": "mod a; mod b;", "a.rs": "use crate::b::B;", "b.rs": "pub struct B; fn f() { crate::a::g(); }"}, ["a", "b"]),
        "nested group": ({"lib.rs": "mod a; mod b;", "a/mod.rs": "mod x;", "a/x.rs": "use crate::{b::{self, Thing}};",
                          "b.rs": "pub struct Thing; fn f() { super::a::x::g(); }"}, ["a", "b"]),
        "through a re-export": ({"lib.rs": "mod a; mod b; pub use a::Engine;", "a.rs": "pub struct Engine; fn f() { crate::b::g(); }",
                                 "b.rs": "use crate::Engine;"}, ["a", "b"]),
        "through a macro": ({"lib.rs": "mod a; mod b;", "a.rs": "macro_rules! forms { () => {} }\nfn f() { crate::b::g(); }",
                             "b.rs": "forms!();"}, ["a", "b"]),
        "from a test module": ({"lib.rs": "mod a; mod b;", "a.rs": "pub fn g() {}\n#[cfg(test)]\nmod tests { use super::super::b; }",
                                "b.rs": "fn f() { super::a::g(); }"}, ["a", "b"]),
        "parent and child": ({"lib.rs": "mod a; pub struct T;", "a.rs": "use crate::T;\nfn f() { crate::a::g(); }"}, []),
        "strings and comments": ({"lib.rs": "mod a; mod b;", "a.rs": "use crate::b::B; // crate::x\nconst U: &str = \"s3://x\"; fn f() { crate::b::g(); }",
                                  "b.rs": "/* crate::a::f */ const T: &str = \"crate::a::f\"; const R: &str = r#\"super::a\"#;"}, []),
        "a test module's super is its file": ({"lib.rs": "mod a; mod b;", "a.rs": "#[cfg(test)]\nmod tests { use super::g; }\npub fn g() {}",
                                               "b.rs": "use crate::a::g;"}, []),
    }
    failed = 0
    for name, (files, expected) in cases.items():
        with tempfile.TemporaryDirectory() as tmp:
            src = pathlib.Path(tmp) / "src"
            for rel, text in files.items():
                (src / rel).parent.mkdir(parents=True, exist_ok=True)
                (src / rel).write_text(text + "\n")
            got = ["::".join(m) for comp in crate_circles(pathlib.Path(tmp)) for m in comp]
        if got != expected:
            print(f"self-test {name}: found {got}, expected {expected}")
            failed += 1
    print(f"self-test: {len(cases) - failed} of {len(cases)} cases as expected")
    return 1 if failed else 0


def main() -> int:
    if sys.argv[1:] == ["--self-test"]:
        return self_test()
    crates = [pathlib.Path(a) for a in sys.argv[1:]] or sorted(p.parent for p in ROOT.glob("*/src"))
    failed = 0
    for crate in crates:
        for comp in crate_circles(crate):
            print(f"{crate.name}: modules in a circle: {', '.join('::'.join(m) for m in comp)}")
            failed += 1
    if not failed:
        print(f"no circle between the modules of {len(crates)} crate(s)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
