"""The docs site in a real browser: headless Chromium from Debian (/usr/bin/chromium), driven by Playwright, pages
opened from file:// with every request outside the site blocked (and recorded).

Checked: the tutorial page, the views page and the API entry of `run_task_space` each load with no console error
and no request outside the site, and each page that stores charts renders them (an SVG with marks per chart) from
the shipped vega bundle; the search page finds `run_task_space`; a chart with a broken spec is reported as failed,
so the checks can fail. A screenshot of the tutorial page goes to test-artifacts/docs_tutorial.png, and with
LTS_DOCS_SCREENSHOT=1 also to docs/images/docs_tutorial.png (the committed one).

The site is `_site/` (built by `bash scripts/docs.sh`; scripts/test.sh builds it before pytest), or $LTS_DOCS_SITE;
when it is missing the test builds it.
"""
import os, re, shutil, subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = '/usr/bin/chromium'
ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
        '--disable-background-networking', '--disable-component-update', '--disable-sync']
ARTIFACTS = ROOT/'test-artifacts'

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists() and not os.environ.get('CI'),
                                reason=f'{CHROMIUM} not found: apt-get install chromium (the CI installs it)')

@pytest.fixture(scope='module')
def site():
    pytest.importorskip('playwright', reason='the playwright Python package is a dev requirement')
    s = Path(os.environ.get('LTS_DOCS_SITE', ROOT/'_site'))
    if not (s/'index.html').exists():
        subprocess.run(['bash', str(ROOT/'scripts'/'docs.sh')], check=True, cwd=ROOT,
                       env={**os.environ, 'LTS_DOCS_OUT': str(s)})
    return s.resolve()

@pytest.fixture(scope='module')
def browser():
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield b
        b.close()

def visit(browser, site: Path, page: str, screenshot=None, wait_charts=True, anchor=None):
    "Open `page` of `site`; return what loaded, what was blocked, the console errors and the charts' state."
    res = {'console': [], 'errors': [], 'requests': [], 'blocked': []}
    ctx = browser.new_context(viewport={'width': 1400, 'height': 1000})
    root = site.as_uri()
    def route(r):
        u = r.request.url
        if u.startswith(root + '/'): r.continue_()
        else: res['blocked'].append(u); r.abort()
    ctx.route('**/*', route)
    pg = ctx.new_page()
    pg.on('console', lambda m: res['console'].append((m.type, m.text)))
    pg.on('pageerror', lambda e: res['errors'].append(str(e)))
    pg.on('request', lambda r: res['requests'].append(r.url))
    try:
        url = f'{root}/{page}'
        pg.goto(url)
        if wait_charts: pg.wait_for_function('document.body.dataset.charts !== undefined', timeout=60_000)
        res['charts'] = pg.evaluate("""() => ({state: document.body.dataset.charts || null,
            expected: +(document.body.dataset.chartsExpected || 0), rendered: +(document.body.dataset.chartsRendered || 0),
            each: [...document.querySelectorAll('.lts-chart')].map(el => ({svg: !!el.querySelector('svg'),
                   marks: el.querySelectorAll('.role-mark > *').length}))})""")
        res['title'] = pg.title()
        res['page'] = pg
        if anchor: pg.locator(f'[id="{anchor}"]').scroll_into_view_if_needed()
        if screenshot:
            Path(screenshot).parent.mkdir(parents=True, exist_ok=True)
            pg.screenshot(path=str(screenshot))
        res['html'] = pg.content()
        res['text'] = pg.inner_text('body')
    finally:
        res['errors'] += [t for k, t in res['console'] if k == 'error']
        res['outside'] = [u for u in res['requests'] if not u.startswith(root + '/')]
    res['ctx'] = ctx
    return res

def assert_clean(res, min_charts=0):
    assert res['errors'] == [], res['errors']
    assert res['outside'] == [] and res['blocked'] == [], res['outside'] + res['blocked']
    c = res['charts']
    if min_charts:
        assert c['state'] == 'ok' and c['expected'] == c['rendered'] >= min_charts, c
        assert all(e['svg'] and e['marks'] > 0 for e in c['each']), c['each']

def test_tutorial_page(site, browser):
    shot = ARTIFACTS/'docs_tutorial.png'
    res = visit(browser, site, 'tutorials/task_space.html', screenshot=shot, anchor='the-interactive-view')
    try:
        assert 'From minimal pairs to a task space' in res['title']
        assert_clean(res, min_charts=2)                  # the basis lens and the explorer's charts
        assert 'slow: real model' in res['page'].evaluate(
            "getComputedStyle(document.querySelector('.tag_slow .cell_input'), '::before').content")
    finally: res['ctx'].close()
    assert shot.read_bytes()[:8] == b'\x89PNG\r\n\x1a\n' and shot.stat().st_size > 30_000
    if os.environ.get('LTS_DOCS_SCREENSHOT') == '1':
        (ROOT/'docs'/'images').mkdir(exist_ok=True)
        shutil.copyfile(shot, ROOT/'docs'/'images'/'docs_tutorial.png')

def test_views_page(site, browser):
    res = visit(browser, site, 'views.html')
    try: assert_clean(res, min_charts=1)
    finally: res['ctx'].close()

def test_run_task_space_entry(site, browser):
    pages = [p for p in site.glob('*.html') if 'id="lts_nb.probes.run_task_space"' in p.read_text(encoding='utf-8')
             or 'id="lts_nb.task_space.run_task_space"' in p.read_text(encoding='utf-8')]
    assert len(pages) == 1, pages
    sym = re.search(r'id="(lts_nb\.\w+\.run_task_space)"', pages[0].read_text(encoding='utf-8')).group(1)
    res = visit(browser, site, f'{pages[0].name}#{sym}', wait_charts=True)
    try:
        assert_clean(res)
        entry = res['page'].locator(f'dt[id="{sym}"]')
        assert entry.count() == 1 and entry.is_visible()
        assert 'run_task_space' in entry.inner_text() and '(' in entry.inner_text()
        dd = res['page'].locator(f'dt[id="{sym}"] + dd')
        assert dd.locator('table').count() >= 1                                  # the parameter table
        assert 'blob/' in dd.locator('a.lts-source').get_attribute('href') and '#LNone' not in res['html']
        assert re.search(r'#L\d+$', dd.locator('a.lts-source').get_attribute('href'))
    finally: res['ctx'].close()

def test_search_finds_run_task_space(site, browser):
    res = visit(browser, site, 'search.html?q=run_task_space', wait_charts=False)
    try:
        pg = res['page']
        pg.wait_for_function("document.querySelector('#search-results') && "
                             "document.querySelector('#search-results').innerText.includes('Search finished')", timeout=60_000)
        hrefs = pg.eval_on_selector_all('#search-results li a', 'els => els.map(e => e.getAttribute("href"))')
        assert any(re.search(r'\.html#lts_nb\.\w+\.run_task_space$', h or '') for h in hrefs), hrefs
        assert res['errors'] == [] and res['outside'] == [], res['errors'] + res['outside']
    finally: res['ctx'].close()

def test_broken_chart_is_reported(site, browser, tmp_path):
    "The checks can fail: a copy of the views page with one invalid chart spec reports the failure."
    copy = tmp_path/'site'
    shutil.copytree(site, copy, ignore=shutil.ignore_patterns('mathjax'))
    p = copy/'views.html'
    html = p.read_text(encoding='utf-8')
    assert '"mark": {"type": "rect"' in html
    p.write_text(html.replace('"mark": {"type": "rect"', '"mark": {"type": "not-a-mark"', 1), encoding='utf-8')
    res = visit(browser, copy.resolve(), 'views.html')
    try:
        assert res['charts']['state'] == 'failed' and res['charts']['rendered'] == res['charts']['expected'] - 1
        assert any('not-a-mark' in e or 'lts chart' in e for e in res['errors']), res['errors']
    finally: res['ctx'].close()
