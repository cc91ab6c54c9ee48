"""The explorers in a real JupyterLab with no network, in a real browser.

A JupyterLab server is started on 127.0.0.1 (a free port, a random token, its own config, runtime, settings and
workspace folders under a temporary root). Headless Chromium (Debian's /usr/bin/chromium, driven by Playwright;
nothing is downloaded) opens a notebook that builds a `TaskSpaceExplorer` over two fake runs and a `VDSExplorer` on
the tiny model, and runs it. Every request that leaves 127.0.0.1 is blocked and recorded. The test then checks, as a
user would see it:

1. every chart renders, with marks in its SVG;
2. choosing another space in the drop-down redraws the heatmap, with the new space in its title;
3. a click on a heatmap cell fills the detail panel (through the JupyterChart's selection, the kernel, and back);
4. typing a sentence into the VDS box (and Enter) redraws the lens with that sentence's tokens;
5. no console errors, no page errors, no error outputs, and no request outside 127.0.0.1.

The negative control runs the same explorer with offline mode switched off (`LTS_NB_OFFLINE=0`): its charts must not
render and its requests to the CDN must be seen, so the checks above can fail. The server is stopped at the end
(and checked to be gone).

A screenshot of the explorer is saved to test-artifacts/lab_explorer.png; with LTS_SCREENSHOTS=1 also to
nbs/images/lab_explorer.png, the image the views notebook shows.
"""
import json, os, secrets, shutil, signal, socket, subprocess, sys, time, urllib.request
from pathlib import Path

import pytest

from lts_nb.views_report import CHROMIUM, CHROMIUM_ARGS

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT/'test-artifacts'

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists() and not os.environ.get('CI'),
                                reason=f'{CHROMIUM} not found: apt-get install chromium (scripts/setup.sh does it as root; the CI has it)')

EXPLORER = """from lts_nb.runs import fake_run_dir
from lts_nb.views import TaskSpaceExplorer
acc = {'anaphor_number_agreement': 0.97, 'determiner_noun_agreement_2': 0.16}
r1 = fake_run_dir('run_a', n_tasks=6, seed=0, model='model-a', n_perm=19, acc_before=acc)
r2 = fake_run_dir('run_b', n_tasks=6, seed=1, model='model-b', n_perm=19, acc_before=acc)
ex = TaskSpaceExplorer([r1, r2], n_perm=19)
ex"""
VDS = """from lts_nb.models import tiny_lm
from lts_nb.vds import semantic_bases
from lts_nb.views_vds import VDSExplorer
lm = tiny_lm()
vx = VDSExplorer(lm, semantic_bases(lm, cache=False), text='the cat')
vx"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0)); return s.getsockname()[1]


def _notebook(path: Path, offline: bool, vds: bool):
    import nbformat
    cells = [f"import os; os.environ['LTS_NB_OFFLINE'] = '{int(offline)}'", EXPLORER] + ([VDS] if vds else [])
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells],
                                  metadata={'kernelspec': {'name': 'python3', 'display_name': 'Python 3', 'language': 'python'}})
    nbformat.write(nb, path)


@pytest.fixture(scope='module')
def lab(tmp_path_factory):
    "A JupyterLab server of our own on 127.0.0.1; stopped (and checked) afterwards."
    pytest.importorskip('playwright', reason='the playwright Python package is a dev requirement')
    pytest.importorskip('jupyterlab', reason='JupyterLab is a dev requirement (scripts/setup.sh installs it)')
    root = tmp_path_factory.mktemp('lab')
    _notebook(root/'offline.ipynb', offline=True, vds=True)
    _notebook(root/'online.ipynb', offline=False, vds=False)
    port, token = _free_port(), secrets.token_hex(16)
    env = {**os.environ, 'JUPYTER_CONFIG_DIR': str(root/'.config'), 'JUPYTER_RUNTIME_DIR': str(root/'.runtime'),
           'JUPYTERLAB_SETTINGS_DIR': str(root/'.settings'), 'JUPYTERLAB_WORKSPACES_DIR': str(root/'.workspaces'),
           'OMP_NUM_THREADS': '1', 'PYTHONWARNINGS': 'ignore::DeprecationWarning'}
    cmd = [sys.executable, '-m', 'jupyterlab', '--no-browser', '--ServerApp.ip=127.0.0.1', f'--ServerApp.port={port}',
           '--ServerApp.port_retries=0', f'--IdentityProvider.token={token}', f'--ServerApp.root_dir={root}',
           '--LabApp.expose_app_in_browser=True', '--LabApp.news_url=', '--LabApp.extension_manager=readonly',
           '--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate'] + (['--allow-root'] if os.getuid() == 0 else [])
    news = root/'.settings'/'@jupyterlab'/'apputils-extension'/'notification.jupyterlab-settings'
    news.parent.mkdir(parents=True); news.write_text(json.dumps({'fetchNews': 'false'}))     # no "Jupyter news?" toast
    log = open(root/'server.log', 'w')
    proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        t0 = time.time()
        while True:
            assert proc.poll() is None, f"JupyterLab exited: {(root/'server.log').read_text()[-2000:]}"
            try:
                urllib.request.urlopen(f'http://127.0.0.1:{port}/api/status?token={token}', timeout=2); break
            except OSError:
                assert time.time() - t0 < 120, 'JupyterLab did not answer within 120 s'
                time.sleep(0.3)
        yield {'url': f'http://127.0.0.1:{port}', 'token': token, 'root': root}
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try: proc.wait(30)
        except subprocess.TimeoutExpired: os.killpg(proc.pid, signal.SIGKILL); proc.wait(10)
        log.close()
        assert proc.poll() is not None
        with pytest.raises(OSError): urllib.request.urlopen(f'http://127.0.0.1:{port}/api/status', timeout=2)


CHARTS_JS = """sel => [...document.querySelectorAll(sel)].map(el => ({
  cls: el.className, svg: !!el.querySelector('.vega-embed svg'), marks: el.querySelectorAll('.vega-embed .role-mark > *').length,
  title: [...el.querySelectorAll('.role-title-text')].map(t => t.textContent).join(' | '),
  labels: [...el.querySelectorAll('.role-axis-label text')].map(t => t.textContent)}))"""
CELLS_JS = """() => jupyterapp.shell.currentWidget.content.widgets.map(c => ({type: c.model.type, n: c.model.executionCount,
  errors: c.model.type === 'code' ? c.model.outputs.toJSON().filter(o => o.output_type === 'error').map(o => o.ename + ': ' + o.evalue) : []}))"""
KERNEL_JS = "() => { const s = jupyterapp.shell.currentWidget.sessionContext.session; return s && s.kernel ? s.kernel.status : null; }"


class Lab:
    "One notebook opened and run in JupyterLab, in a fresh browser page; what it logged and requested."
    def __init__(self, browser, lab, name):
        self.outside, self.console, self.page_errors = [], [], []
        self.page = pg = browser.new_page(viewport={'width': 1400, 'height': 1250})
        local = lab['url'] + '/'
        def route(r):
            if r.request.url.startswith(local): r.continue_()
            else: self.outside.append(r.request.url); r.abort()
        pg.route('**/*', route)
        pg.on('console', lambda m: self.console.append((m.type, m.text)))
        pg.on('pageerror', lambda e: self.page_errors.append(str(e)))
        # a workspace of its own, reset: JupyterLab would otherwise restore the tabs (and widgets) of the previous page
        pg.goto(f"{lab['url']}/lab/workspaces/{Path(name).stem}/tree/{name}?reset&token={lab['token']}")
        pg.wait_for_function(f"window.jupyterapp && jupyterapp.shell.currentWidget && ({KERNEL_JS})() === 'idle'", timeout=120_000)
        pg.evaluate("jupyterapp.commands.execute('notebook:run-all-cells')")
        t0 = time.time()
        while True:
            cells = pg.evaluate(CELLS_JS)
            if all(c['n'] for c in cells if c['type'] == 'code') and pg.evaluate(KERNEL_JS) == 'idle': break
            assert time.time() - t0 < 240, f'the notebook did not finish in 240 s: {cells}'
            pg.wait_for_timeout(500)
        self.cell_errors = [e for c in cells for e in c['errors']]

    def charts(self, sel='.lts-explorer .lts-heatmap, .lts-explorer .lts-series, .lts-vds .lts-lens'):
        return self.page.evaluate(CHARTS_JS, sel)

    def wait(self, js: str, arg=None, timeout=30_000):
        "Wait until `js` is true; on a timeout, fail with what the page shows (charts, errors, blocked requests) and a screenshot."
        from playwright.sync_api import TimeoutError as PwTimeout
        try: self.page.wait_for_function(js, arg=arg, timeout=timeout)
        except PwTimeout:
            ARTIFACTS.mkdir(exist_ok=True)
            self.page.screenshot(path=str(ARTIFACTS/'lab_failure.png'), full_page=True)
            raise AssertionError(f"timed out waiting for {js[:120]!r}; charts: {self.charts()}; errors: {self.errors[:5]}; "
                                 f"blocked: {self.outside[:5]} (screenshot test-artifacts/lab_failure.png)") from None

    def close(self):
        "Shut the notebook's kernel down (it would keep a CPU busy) and close the page."
        self.page.evaluate("jupyterapp.shell.currentWidget.sessionContext.shutdown()")
        self.page.close()

    @property
    def errors(self): return [t for k, t in self.console if k == 'error'] + self.page_errors + self.cell_errors


def _lens_inputs(text: str) -> list:
    from lts_nb.models import tiny_lm
    from lts_nb.vds import semantic_bases
    from lts_nb.views_vds import lens_frame
    lm = tiny_lm()
    return list(dict.fromkeys(lens_frame(lm, text, semantic_bases(lm, cache=False)).sort_values('position').input))


@pytest.fixture(scope='module')
def browser():
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


def test_explorers_work_offline_in_jupyterlab(lab, browser):
    L = Lab(browser, lab, 'offline.ipynb')
    pg = L.page
    # 1. every chart renders with marks (heatmap and series of the task-space explorer, the lens of the VDS explorer)
    L.wait("[...document.querySelectorAll('.lts-heatmap, .lts-series, .lts-lens')].filter(el => el.querySelector('.vega-embed .role-mark')).length === 3")
    charts = L.charts()
    assert [c['cls'].split()[-1] for c in charts] == ['lts-heatmap', 'lts-series', 'lts-lens'], charts
    assert all(c['svg'] and c['marks'] > 0 for c in charts), charts
    assert charts[0]['title'].startswith('model-a: transfer (Spearman'), charts[0]['title']
    assert {'phenomenon band', 'anaphor gender agreement', 'determiner noun agreement 2 ▼'} <= set(charts[0]['labels'])  # names, bands, flags
    # 2. another space in the drop-down: the heatmap redraws with the new title
    pg.locator('.lts-space select').select_option(label='gradient similarity')
    L.wait("document.querySelector('.lts-heatmap .role-title-text').textContent.startsWith('model-a: gradient similarity')")
    assert L.charts('.lts-heatmap')[0]['marks'] > 0
    # 3. a click on a cell (the third cell in data order: tuned on task 0, evaluated on task 3) fills the detail panel
    cell = pg.locator('.lts-heatmap .mark-rect.role-mark').first.locator('path').nth(2)
    cell.scroll_into_view_if_needed()
    box = cell.bounding_box()
    pg.mouse.click(box['x'] + box['width'] / 2, box['y'] + box['height'] / 2)
    L.wait("document.querySelector('.lts-detail').innerText.includes('tuned on')")
    detail = pg.inner_text('.lts-detail')
    assert 'anaphor gender agreement' in detail and 'determiner noun agreement 2' in detail, detail
    L.wait("document.querySelectorAll('.lts-curve .vega-embed .role-mark > *').length > 0")      # the tuned task's curve
    pg.mouse.move(5, 5); pg.wait_for_timeout(300)
    ARTIFACTS.mkdir(exist_ok=True)
    pg.locator('.lts-explorer').scroll_into_view_if_needed()
    pg.evaluate("document.querySelector('.lts-explorer').scrollIntoView({block: 'start'})")
    pg.screenshot(path=str(ARTIFACTS/'lab_explorer.png'))
    if os.environ.get('LTS_SCREENSHOTS') == '1': shutil.copy(ARTIFACTS/'lab_explorer.png', ROOT/'nbs'/'images'/'lab_explorer.png')
    # 4. typing in the VDS box (and Enter) redraws the lens with the new sentence's positions
    before = _lens_inputs('the cat')
    text = 'a dog barks'
    want = _lens_inputs(text)
    lens_x = "[...document.querySelectorAll('.lts-lens .role-axis-label text')].map(t => t.textContent)"
    assert set(before) <= set(L.charts('.lts-lens')[0]['labels'])
    box = pg.locator('.lts-text input')
    box.fill(text); box.press('Enter')
    L.wait(f"want => {{ const x = {lens_x}; return want.every(w => x.includes(w)) && x.filter(t => t.includes(':')).length === want.length; }}", arg=want)
    assert L.charts('.lts-lens')[0]['marks'] > 0
    # 5. no errors, nothing outside 127.0.0.1
    assert L.errors == [], L.errors
    assert L.outside == [], L.outside
    L.close()


def test_negative_control_online_mode_fails_offline(lab, browser):
    "With offline mode off, the same explorer cannot load its JavaScript: no chart renders and the CDN requests are seen."
    L = Lab(browser, lab, 'online.ipynb')
    L.wait("document.querySelectorAll('.lts-heatmap').length === 1")
    L.page.wait_for_timeout(8000)                    # time enough for the offline notebook to render (it takes ~1 s)
    charts = L.charts('.lts-explorer .lts-heatmap, .lts-explorer .lts-series')
    assert charts and not any(c['svg'] for c in charts), charts
    assert any('esm.sh' in u or 'jsdelivr' in u for u in L.outside), L.outside
    assert any('Failed to initialize model' in e or 'Failed to fetch dynamically imported module' in e for e in L.errors), L.errors
    L.close()
