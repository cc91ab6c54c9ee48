#!/usr/bin/env python
"""Execute notebooks top to bottom (slow cells included) and save their outputs in place.

Usage: python scripts/run_nb.py nbs/03_scoring.ipynb [more.ipynb ...]

Outputs are committed so the docs read without re-running. Cells run with the notebook's folder as the
working directory, as nbdev_test runs them. Stops at the first error and leaves the file unchanged.
"""
import os, sys, time
from pathlib import Path
from execnb.nbio import read_nb, write_nb
from execnb.shell import CaptureShell

for p in map(Path, sys.argv[1:]):
    nb = read_nb(p)
    cwd = os.getcwd(); os.chdir(p.parent.resolve())
    t0 = time.time()
    try:
        sh = CaptureShell()
        sh.run_all(nb, exc_stop=True)
    finally: os.chdir(cwd)
    write_nb(nb, p)
    print(f"{p}: ran in {time.time()-t0:.0f} s")
