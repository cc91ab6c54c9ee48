"""The standalone report in a real browser: headless Chromium from Debian (/usr/bin/chromium), driven by Playwright.

Nothing is downloaded: Playwright is pointed at the system browser. The report is opened from file://; every chart
must render (an SVG with marks), the page must log no error and request nothing outside the file, and a click on a
heatmap cell must fill the detail panel. Screenshots are saved to test-artifacts/ (report.png: the top of the page, as
in the README; report-full.png: the whole page).

LTS_REPORT_RUN=RUN_DIR runs the same checks on a real run directory (e.g. the README's demo) instead of a fake one.
"""
import os, re
from pathlib import Path

import pytest

from lts_nb.runs import fake_run_dir, load_run
from lts_nb.views import task_labels
from lts_nb.views_report import CHROMIUM, browse_report, build_report

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT/'test-artifacts'
BLIMP = ROOT.parent/'shared'/'data'/'blimp'

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists() and not os.environ.get('CI'),
                                reason=f'{CHROMIUM} not found: apt-get install chromium chromium-driver (the CI installs them)')


@pytest.fixture(scope='module')
def report(tmp_path_factory):
    pytest.importorskip('playwright', reason='the playwright Python package is a dev requirement')
    d = tmp_path_factory.mktemp('report')
    run_dir = (Path(os.environ['LTS_REPORT_RUN']) if os.environ.get('LTS_REPORT_RUN') else
               fake_run_dir(d/'run', n_tasks=12, acc_before={'anaphor_number_agreement': 0.97, 'determiner_noun_agreement_2': 0.16}))
    return build_report(run_dir, d/'report.html', blimp=BLIMP if BLIMP.exists() else None), load_run(run_dir)


def test_report_renders_in_chromium(report):
    path, run = report
    ARTIFACTS.mkdir(exist_ok=True)
    res = browse_report(path, screenshot=ARTIFACTS/'report.png', full_page=False, viewport=(1500, 1300))
    n = path.read_text().count('class="chart"')
    assert res['rendered'] == 'ok', res['status']
    assert res['status']['rendered'] == res['status']['expected'] == n == len(res['charts']) > 0
    for c in res['charts']:
        assert c['svg'] or c['canvas'], f"{c['name']}: no svg/canvas"
        assert c['marks'] > 0, f"{c['name']}: no marks"
    assert res['errors'] == [], res['errors']                      # console errors and page errors
    assert res['external_requests'] == [] and res['failed_requests'] == []
    assert res['wide_tables'] == [], res['wide_tables']              # no table runs off the page (1500 px)
    # the click on a heatmap cell: the third off-diagonal cell in data order is (task 0, task 3)
    t = run.space.tasks
    assert res['clicked_cell'] == f'{t[0]}|{t[3]}'
    lab = task_labels(run)
    assert f'tuned on {lab[t[0]]} → evaluated on {lab[t[3]]}' in res['detail_text'].replace('\n', ' ')
    assert (ARTIFACTS/'report.png').read_bytes()[:8] == b'\x89PNG\r\n\x1a\n'


def test_report_full_page_screenshot(report):
    path, _ = report
    res = browse_report(path, screenshot=ARTIFACTS/'report-full.png', click=False, viewport=(1280, 900))
    assert res['errors'] == [] and res['rendered'] == 'ok'
    assert res['wide_tables'] == [], res['wide_tables']              # nor on a narrower screen (1280 px)
    assert (ARTIFACTS/'report-full.png').stat().st_size > 50_000


def test_checker_sees_a_broken_chart(report, tmp_path):
    "The checks can fail: a report with one invalid spec is reported as failed, with a console error."
    path, _ = report
    doc = path.read_text()
    bad = tmp_path/'broken.html'
    bad.write_text(re.sub(r'"mark": \{"type": "rect"', '"mark": {"type": "not-a-mark"', doc, count=1))
    res = browse_report(bad, click=False)
    assert res['rendered'] == 'failed' and res['status']['failed'] == 1
    assert any('not-a-mark' in e or 'chart' in e for e in res['errors'])
    assert sum(c['marks'] == 0 for c in res['charts']) >= 1
