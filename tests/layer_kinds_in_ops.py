#!/usr/bin/env python3
"""A layer kind lives in its own file under compiler/ops/, and nowhere else.

Reads the layer kinds' names and table entries from the OpInfo tables in
compiler/ops/*.c (`const OpInfo op_lstm = { .name = "LSTM"`) and fails,
naming file:line, when code in compiler/*.c or compiler/*.h decides
something by one of them: a string literal that is a layer name ("GRU"),
one that describes a layer's option or argument ("GRU(reset_after=false)",
"TimeDistributed(%s)"), or a table entry itself (&op_concatenate). Examples
for the user such as "like LSTM(32)" and comments are allowed. Such code belongs behind an
OpInfo field or hook, set in the op's file (docs/internals.md).

usage: layer_kinds_in_ops.py [SOURCE_DIR]
"""
import glob
import os
import re
import sys

NAME_RE = re.compile(r'\.name\s*=\s*"([A-Za-z_][A-Za-z0-9_]*)"')
ENTRY_RE = re.compile(r'\bconst\s+OpInfo\s+(op_\w+)\s*=')
STRING_RE = re.compile(r'"(?:[^"\\\n]|\\.)*"')


def layer_names(src):
    """The layer kinds' names and their table entries' symbols."""
    names, entries = set(), set()
    for path in glob.glob(os.path.join(src, "compiler", "ops", "*.c")):
        if os.path.basename(path) == "TEMPLATE.c":
            continue
        with open(path, encoding="utf-8") as f:
            text = f.read()
        names.update(NAME_RE.findall(text))
        entries.update(ENTRY_RE.findall(text))
    return names, entries


def strip_comments(text):
    """Blank out comments (keeping newlines, so line numbers hold) but not
    comment-like text inside string literals."""
    out, i, n = [], 0, len(text)
    while i < n:
        c = text[i]
        if c == '"' or c == "'":
            j = i + 1
            while j < n and text[j] != c and text[j] != "\n":
                j += 2 if text[j] == "\\" else 1
            out.append(text[i:j + 1])
            i = j + 1
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append(re.sub(r"[^\n]", " ", text[i:j]))
            i = j
        elif text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            out.append(" " * (j - i))
            i = j
        else:
            out.append(c)
            i += 1
    return "".join(out)


def offences(text, names, entries=()):
    """(line, message) for each literal in code that names a layer kind,
    and each use of a kind's table entry."""
    alt = "|".join(sorted(map(re.escape, names), key=len, reverse=True))
    as_option = re.compile(r"\b(%s)\((?![0-9)])" % alt)
    entry = re.compile(r"\b(%s)\b" % "|".join(sorted(entries))) if entries else None
    found = []
    for no, line in enumerate(strip_comments(text).split("\n"), 1):
        code = STRING_RE.sub('""', line)
        for m in entry.finditer(code) if entry else ():
            found.append((no, "uses the layer kind's table entry %s" % m.group(1)))
        for lit in STRING_RE.findall(line):
            body = lit[1:-1]
            if body in names:
                found.append((no, "compares with the layer kind %s" % lit))
            else:
                m = as_option.search(body)
                if m:
                    found.append((no, "describes an option of the layer kind %s in %s"
                                  % (m.group(1), lit)))
    return found


def self_test(names, entries):
    """The check must catch what it is for, and pass what it allows."""
    bad = ('if (!strcmp(op->name, "GRU"))\n  puts("no GRU(reset_after=false)");\n'
           'int k = op == &op_concatenate;\n')
    good = '/* "GRU", &op_lstm */\nputs("a layer, like LSTM(32), op_lstm"); // "Dense"\n'
    assert {"GRU", "LSTM", "Dense"} <= names, "op names not found: %s" % sorted(names)
    assert {"op_lstm", "op_concatenate"} <= entries, "entries not found: %s" % sorted(entries)
    assert [n for n, _ in offences(bad, names, entries)] == [1, 2, 3], offences(bad, names, entries)
    assert offences(good, names, entries) == [], offences(good, names, entries)


def main():
    src = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..")
    names, entries = layer_names(src)
    self_test(names, entries)
    failed = False
    paths = sorted(glob.glob(os.path.join(src, "compiler", "*.c"))
                   + glob.glob(os.path.join(src, "compiler", "*.h")))
    for path in paths:
        with open(path, encoding="utf-8") as f:
            for no, msg in offences(f.read(), names, entries):
                print("%s:%d: %s: put it behind an OpInfo field or hook in compiler/ops/"
                      % (os.path.relpath(path, src), no, msg))
                failed = True
    if not failed:
        print("%d layer kinds (%d table entries), %d files outside compiler/ops/: none named"
              % (len(names), len(entries), len(paths)))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
