#!/usr/bin/env python3
"""edit-section.py - a non-interactive $EDITOR for `kb edit` in the sync tests
and the scenario: replaces the text of one body section of the file it is
given, or appends the section when the case has none.

usage: EDITOR="python3 edit-section.py" KB_SECTION=Symptom KB_SECTION_TEXT='...' kb edit ID
"""
import os
import sys


def main():
    path = sys.argv[-1]
    name = os.environ["KB_SECTION"]
    text = os.environ["KB_SECTION_TEXT"].rstrip("\n")
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    head = "## " + name
    out, i, done = [], 0, False
    while i < len(lines):
        line = lines[i]
        out.append(line)
        i += 1
        if line.strip() == head and not done:
            while i < len(lines) and not lines[i].startswith("## "):
                i += 1
            out += ["", text, ""]
            done = True
    if not done:
        while out and out[-1] == "":
            out.pop()
        out += ["", head, "", text, ""]
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(out))


if __name__ == "__main__":
    main()
