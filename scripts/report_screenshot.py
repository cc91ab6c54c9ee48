#!/usr/bin/env python
"""Write the HTML report of a task-space run and save a screenshot of it, as shown in the README.

Usage: python scripts/report_screenshot.py RUN_DIR OUT.png [--blimp PATH] [--html REPORT.html] [--full]

RUN_DIR is a run directory written by `lts_task_space` (e.g. the README's demo run). The report is opened from
file:// in headless Chromium (Debian's /usr/bin/chromium, driven by Playwright; nothing is downloaded); a heatmap
cell is clicked so the detail panel shows, and the top of the page (1500 x 1300 px) is saved, or the whole page
with --full. Fails if a chart does not render, the page logs an error, or it requests anything outside the file.
"""
import argparse, sys, tempfile
from pathlib import Path
from lts_nb.views_report import CHROMIUM, browse_report, build_report

ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
ap.add_argument('run_dir'); ap.add_argument('out_png')
ap.add_argument('--blimp', default=None, help='BLiMP data, for example pairs in the detail panel')
ap.add_argument('--html', default=None, help='also keep the report here (default: a temporary file)')
ap.add_argument('--full', action='store_true', help='the whole page, not only its top')
ap.add_argument('--chromium', default=CHROMIUM)
a = ap.parse_args()

with tempfile.TemporaryDirectory() as d:
    html = build_report(a.run_dir, a.html or Path(d)/'report.html', blimp=a.blimp)
    res = browse_report(html, screenshot=a.out_png, chromium=a.chromium, full_page=a.full, viewport=(1500, 1300))
bad = [c['name'] for c in res['charts'] if not (c['svg'] or c['canvas']) or c['marks'] == 0]
problems = (bad and [f'charts not rendered: {bad}']) or []
problems += [f'error: {e}' for e in res['errors']] + [f'request: {u}' for u in res['external_requests']]
problems += [f'table wider than the page: {t}' for t in res['wide_tables']]
print(f"{len(res['charts'])} charts rendered in {res['seconds']:.1f} s; screenshot {a.out_png}")
if problems: print('\n'.join(problems), file=sys.stderr); sys.exit(1)
