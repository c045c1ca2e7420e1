"""Runs the command blocks of README.md and of the docs pages it links, as a user following them would.

Every ```bash block runs, in page order (README first, then each linked page in the order the README links it), in
one fresh working folder: a copy of the repository's files (tracked and untracked, not ignored — what a clone holds,
without build outputs), so a block that needs what an earlier block makes fails when that block is missing. Each
block runs as `bash -euo pipefail` and must exit 0. An HTML comment right before a block states what its text
promises, and the block fails when its output does not keep the promise:

    <!-- example: json=top1,loss files=artifacts/cli/tokenidle.dll stdout=REGEX stderr=REGEX exit=1 timeout=600 -->
    <!-- example: illustrative (why it does not run here) -->

  json=K1,K2      every key appears in a JSON object printed on standard output (one object per line)
  files=P1,P2     each path exists (relative to the working folder) and is not empty after the block
  stdout=REGEX    standard output matches (Python regular expression, search; no spaces: use \\s)
  stderr=REGEX    standard error matches
  exit=N          the block's exit code is N (for blocks that show a refusal)
  timeout=S       seconds the block may take (default 900)
  illustrative    not run (hours of benchmarks, the network, a GPU); the reason is printed

usage: python3 eng/readme-examples.py [--keep] [--list] [--in FOLDER --from PAGE:LINE]
  --keep   leave the working folder (its path is printed); by default it is removed when every block passed
  --list   print the blocks and their checks, run nothing
  --in FOLDER --from PAGE:LINE   while editing the README: continue in a kept folder (the path printed, which holds
           tokenidle/ and logs/) from the block at PAGE:LINE, its files refreshed from this checkout
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
FENCE = re.compile(r"^```(\w*)\s*$")
MARKER = re.compile(r"^<!--\s*example:\s*(.*?)\s*-->\s*$")
LINK = re.compile(r"\]\((docs/[\w.-]+\.md)(?:#[\w-]*)?\)")
RUNNABLE = {"bash", "sh", "shell"}


class Block:
    def __init__(self, page, line, text, marker):
        self.page, self.line, self.text = page, line, text
        self.checks = parse_marker(marker, f"{page}:{line}")

    @property
    def where(self):
        return f"{self.page}:{self.line}"


def parse_marker(marker, where):
    checks = {"json": [], "files": [], "stdout": None, "stderr": None, "exit": 0, "timeout": 900, "illustrative": None}
    if marker is None:
        return checks
    if marker.startswith("illustrative"):
        reason = marker[len("illustrative"):].strip()
        if not reason:
            raise SystemExit(f"{where}: an illustrative block says why it does not run")
        checks["illustrative"] = reason
        return checks
    for item in marker.split():
        key, _, value = item.partition("=")
        if key in ("json", "files"):
            checks[key] = [v for v in value.split(",") if v]
        elif key in ("stdout", "stderr"):
            re.compile(value)
            checks[key] = value
        elif key in ("exit", "timeout"):
            checks[key] = int(value)
        else:
            raise SystemExit(f"{where}: unknown example check '{key}' (json, files, stdout, stderr, exit, timeout, illustrative)")
    return checks


def blocks_of(page):
    lines = open(os.path.join(ROOT, page), encoding="utf-8").read().split("\n")
    found, i, marker = [], 0, None
    while i < len(lines):
        m = MARKER.match(lines[i])
        if m:
            marker = m.group(1)
            i += 1
            continue
        fence = FENCE.match(lines[i])
        if fence:
            start, language = i, fence.group(1)
            i += 1
            body = []
            while i < len(lines) and not lines[i].startswith("```"):
                body.append(lines[i])
                i += 1
            if language in RUNNABLE:
                found.append(Block(page, start + 1, "\n".join(body), marker))
            elif marker is not None:
                raise SystemExit(f"{page}:{start + 1}: an example marker before a ```{language} block, which is not run")
            marker = None
        elif lines[i].strip() and marker is not None:
            raise SystemExit(f"{page}:{i + 1}: an example marker must come right before its block")
        i += 1
    return found


def pages():
    readme = open(os.path.join(ROOT, "README.md"), encoding="utf-8").read()
    linked = []
    for page in LINK.findall(readme):
        if page not in linked and os.path.exists(os.path.join(ROOT, page)):
            linked.append(page)
    return ["README.md"] + linked


def fresh_copy():
    """A folder holding the repository's files as a clone does: tracked and untracked files git does not ignore."""
    return copy_into(tempfile.mkdtemp(prefix="readme-examples."))


def copy_into(folder):
    work = os.path.join(folder, "tokenidle")
    files = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                           check=True, capture_output=True).stdout.split(b"\0")
    for name in (f.decode() for f in files if f):
        source = os.path.join(ROOT, name)
        if not os.path.lexists(source):
            continue  # deleted in the working tree, not yet committed
        target = os.path.join(work, name)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        shutil.copy2(source, target, follow_symlinks=False)
    return folder, work


def json_keys(text):
    keys = set()
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("{"):
            try:
                value = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(value, dict):
                keys.update(value)
    return keys


def run(block, work, logs, index):
    checks = block.checks
    log = os.path.join(logs, f"{index:02d}")
    started = time.monotonic()
    try:
        done = subprocess.run(["bash", "-euo", "pipefail", "-c", block.text], cwd=work, capture_output=True, text=True,
                              timeout=checks["timeout"])
        code, out, err = done.returncode, done.stdout, done.stderr
    except subprocess.TimeoutExpired as e:
        code, out, err = None, e.stdout or "", e.stderr or ""
        out, err = (out.decode() if isinstance(out, bytes) else out), (err.decode() if isinstance(err, bytes) else err)
    seconds = time.monotonic() - started
    with open(log + ".stdout", "w") as f:
        f.write(out)
    with open(log + ".stderr", "w") as f:
        f.write(err)
    problems = []
    if code is None:
        problems.append(f"still running after {checks['timeout']} s")
    elif code != checks["exit"]:
        problems.append(f"exit code {code}, expected {checks['exit']}")
    missing = [k for k in checks["json"] if k not in json_keys(out)]
    if missing:
        problems.append(f"no JSON line on standard output has {', '.join(missing)}")
    for path in checks["files"]:
        full = os.path.join(work, path)
        if not (os.path.isfile(full) and os.path.getsize(full) > 0):
            problems.append(f"'{path}' was not written")
    for stream, text in (("stdout", out), ("stderr", err)):
        if checks[stream] is not None and not re.search(checks[stream], text):
            problems.append(f"{stream} does not match /{checks[stream]}/")
    return problems, seconds, err


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--list", action="store_true")
    parser.add_argument("--in", dest="folder")
    parser.add_argument("--from", dest="start")
    args = parser.parse_args()
    if (args.folder is None) != (args.start is None):
        parser.error("--in and --from go together")

    blocks = [b for page in pages() for b in blocks_of(page)]
    if args.list:
        for b in blocks:
            shown = {k: v for k, v in b.checks.items() if v not in (None, [], 0, 900)}
            print(f"{b.where}: {shown or 'exit 0'}\n    " + b.text.replace("\n", "\n    "))
        return 0

    if args.folder:
        if not any(b.where == args.start for b in blocks):
            parser.error(f"no block at {args.start}: run --list")
        folder, work = copy_into(os.path.abspath(args.folder))
        blocks = blocks[[b.where for b in blocks].index(args.start):]
    else:
        folder, work = fresh_copy()
    logs = os.path.join(folder, "logs")
    os.makedirs(logs, exist_ok=True)
    print(f"readme-examples: {len(blocks)} blocks of {', '.join(pages())} in {work}", flush=True)
    failed = 0
    for index, block in enumerate(blocks):
        if block.checks["illustrative"]:
            print(f"  skip {block.where}: illustrative: {block.checks['illustrative']}", flush=True)
            continue
        problems, seconds, err = run(block, work, logs, index)
        status = "ok  " if not problems else "FAIL"
        print(f"  {status} {block.where} ({seconds:.0f} s){': ' + '; '.join(problems) if problems else ''}", flush=True)
        if problems:
            failed += 1
            tail = "\n".join(err.strip().splitlines()[-15:])
            print("       " + block.text.replace("\n", "\n       "))
            if tail:
                print("       stderr (last lines):\n         " + tail.replace("\n", "\n         "))
            print(f"       logs: {logs}/{index:02d}.stdout, .stderr", flush=True)
            break  # later blocks build on this one
    if failed or args.keep:
        print(f"readme-examples: working folder kept: {folder}")
    else:
        shutil.rmtree(folder, ignore_errors=True)
    print("readme-examples: " + ("FAILED" if failed else f"all {sum(1 for b in blocks if not b.checks['illustrative'])} run blocks passed"))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
