#!/usr/bin/env python3
"""Builds the fuzz targets' seed corpora (fuzz/corpus/<target>/, not committed) from:
- the GenieACS recordings: tests/data/genieacs/transcripts in the repository when present,
  else ../shared/genieacs/transcripts beside it (or $GENIEACS_TRANSCRIPTS);
- the shipped scenarios (scenarios/**/*.yaml) and templates (data-models/*.yaml), each
  template also cut into one small template per object (its header plus that object), the
  seeds of template_load's long run at a small -max_len (fuzz/README.md says why).
Each recorded .http file gives its body; the messages of one recorded session are also
joined with NUL (the multi-message targets' separator) so whole sessions are seeds too."""
import hashlib
import re
import os
import pathlib
import sys

fuzz = pathlib.Path(__file__).resolve().parent
repo = fuzz.parent
out = fuzz / "corpus"


def transcripts():
    for c in [os.environ.get("GENIEACS_TRANSCRIPTS"),
              repo / "tests/data/genieacs/transcripts",
              repo.parent / "shared/genieacs/transcripts"]:
        if c and pathlib.Path(c).is_dir():
            return pathlib.Path(c)
    return None


def put(target, data):
    d = out / target
    d.mkdir(parents=True, exist_ok=True)
    (d / hashlib.sha1(data).hexdigest()).write_bytes(data)


def body(raw):
    i = raw.find(b"\r\n\r\n")
    j = raw.find(b"\n\n")
    cut = [k + n for k, n in ((i, 4), (j, 2)) if k >= 0]
    return raw[min(cut):] if cut else raw


def per_object(text):
    """One template per object of a template: the lines before `objects:` (name, root, version),
    `objects:`, the objects every template must have (DeviceInfo and ManagementServer: the
    Inform's DeviceId and the ACS's URL), the objects and tables above it, then one other
    object's block (its two-space-indented key and what is under it)."""
    lines = text.splitlines(keepends=True)
    try:
        at = next(i for i, l in enumerate(lines) if l.rstrip() == b"objects:")
    except StopIteration:
        return []
    # The header without its comments: the seed should spend its bytes on what the loader reads.
    head, blocks = [l for l in lines[:at + 1] if not l.startswith(b"#")], []
    for l in lines[at + 1:]:
        if l.startswith(b"  ") and not l.startswith(b"   ") and l.rstrip().endswith(b":"):
            blocks.append([l])
        elif blocks and (l.startswith(b"   ") or not l.strip()):
            blocks[-1].append(l)
        else:
            break
    key = lambda b: re.sub(rb"\.[0-9]+\.", b".{i}.", b[0].strip().rstrip(b":"))
    needed = lambda b: key(b).endswith((b".DeviceInfo.", b".ManagementServer."))
    base = [b for b in blocks if needed(b)]
    seeds = []
    for b in blocks:
        if needed(b):
            continue
        # Its tables and objects above it: a row needs its table declared.
        up = [a for a in blocks if a is not b and not needed(a) and key(b).startswith(key(a))]
        seeds.append(b"".join(head + [l for a in base + up + [b] for l in a]))
    return seeds


def main():
    src = transcripts()
    if src is None:
        print("seeds.py: no GenieACS transcripts found; seeding from scenarios and templates only",
              file=sys.stderr)
    else:
        for session in sorted(p for p in src.glob("*/*") if p.is_dir()):
            acs, cpe = [], []
            for f in sorted(session.glob("*.http")):
                b = body(f.read_bytes())
                if f.stem.endswith("-fs"):
                    continue
                if "-acs" in f.name:
                    acs.append(b)
                    if b.strip():
                        put("decode_acs", b)
                        put("device_rpc", b)
                elif "-cpe" in f.name:
                    cpe.append(b)
                    if b.strip():
                        put("decode_cpe", b)
            if acs:
                put("device_rpc", b"\0".join(acs))
            if cpe:
                put("acs_session", b"\0".join(cpe))
    for f in sorted((repo / "scenarios").rglob("*.yaml")):
        put("scenario_load", f.read_bytes())
    for f in sorted((repo / "data-models").glob("*.yaml")):
        put("template_load", f.read_bytes())
        for small in per_object(f.read_bytes()):
            put("template_load", small)
    for t in sorted(out.iterdir()):
        print(f"{t.name}: {len(list(t.iterdir()))} seeds")


main()
