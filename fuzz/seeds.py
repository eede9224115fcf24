#!/usr/bin/env python3
"""Builds the fuzz targets' seed corpora (fuzz/corpus/<target>/, not committed) from:
- the GenieACS recordings: tests/data/genieacs/transcripts in the repository when present,
  else ../shared/genieacs/transcripts beside it (or $GENIEACS_TRANSCRIPTS);
- the shipped scenarios (scenarios/**/*.yaml) and templates (data-models/*.yaml).
Each recorded .http file gives its body; the messages of one recorded session are also
joined with NUL (the multi-message targets' separator) so whole sessions are seeds too."""
import hashlib
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
    for t in sorted(out.iterdir()):
        print(f"{t.name}: {len(list(t.iterdir()))} seeds")


main()
