"""The hub path end to end (issue 17): a local HTTP server on 127.0.0.1 serves tiny models in the Hugging Face hub's
file layout (/api/models/ORG/NAME/revision/REV, /ORG/NAME/resolve/COMMIT/FILE), HF_ENDPOINT points at it, and
`load_model('org/model', revision=...)` and `lts_series --models org/model@rev` load through the real hub client.
Each load runs in a fresh process (huggingface_hub reads HF_ENDPOINT when imported), with an empty HF cache."""
import hashlib, http.server, json, os, re, socketserver, subprocess, sys, threading
from pathlib import Path
from urllib.parse import unquote, urlparse
import pytest

BIN = Path(sys.executable).parent


class HubMock:
    "Serve folders as hub repos: `repos = {('org/name', 'revision'): folder}`; `log` records every request."
    def __init__(self, repos: dict):
        self.repos, self.log = repos, []
        self.commits = {k: hashlib.sha1(repr(k).encode()).hexdigest() for k in repos}
        mock = self
        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = 'HTTP/1.1'
            def send(self, code, body=b'', headers=None, head=False):
                self.send_response(code)
                for k, v in (headers or {}).items(): self.send_header(k, v)
                self.send_header('Content-Length', str(len(body))); self.end_headers()
                if not head: self.wfile.write(body)
            def handle_any(self, head):
                path = unquote(urlparse(self.path).path); mock.log.append((self.command, path))
                m = (re.match(r'^/api/models/([^/]+/[^/]+)/(revision|tree)/([^/]+)/?(.*)$', path)
                     or re.match(r'^/([^/]+/[^/]+)/(resolve)/([^/]+)/(.+)$', path))
                if not m: return self.send(404, b'{"error": "not found"}', {'X-Error-Code': 'RepoNotFound'}, head)
                repo, kind, rev, fname = m.groups()
                key = next((k for k, c in mock.commits.items() if k[0] == repo and rev in (k[1], c)), None)
                if key is None:
                    code = 'RevisionNotFound' if any(r == repo for r, _ in mock.repos) else 'RepoNotFound'
                    return self.send(404, json.dumps({'error': code}).encode(), {'X-Error-Code': code, 'X-Error-Message': code}, head)
                folder, commit = Path(mock.repos[key]), mock.commits[key]
                files = sorted(f for f in folder.iterdir() if f.is_file())
                if kind == 'revision':
                    body = {'id': repo, 'sha': commit, 'siblings': [{'rfilename': f.name} for f in files]}
                    return self.send(200, json.dumps(body).encode(), {'Content-Type': 'application/json'}, head)
                if kind == 'tree':
                    body = [{'type': 'file', 'path': f.name, 'size': f.stat().st_size} for f in files if not fname]
                    return self.send(200, json.dumps(body).encode(), {'Content-Type': 'application/json'}, head)
                f = folder/fname
                if not f.is_file():
                    return self.send(404, b'{"error": "Entry not found"}', {'X-Error-Code': 'EntryNotFound', 'X-Repo-Commit': commit}, head)
                body = f.read_bytes()
                return self.send(200, body, {'ETag': '"' + hashlib.sha256(body).hexdigest() + '"', 'X-Repo-Commit': commit,
                                             'Content-Type': 'application/octet-stream'}, head)
            def do_HEAD(self): self.handle_any(True)
            def do_GET(self): self.handle_any(False)
            def log_message(self, *a): pass
        class Server(socketserver.ThreadingMixIn, socketserver.TCPServer): daemon_threads = True
        self.httpd = Server(('127.0.0.1', 0), Handler)
        self.url = f'http://127.0.0.1:{self.httpd.server_address[1]}'
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
    def close(self): self.httpd.shutdown(); self.httpd.server_close()


@pytest.fixture(scope='module')
def hub(tmp_path_factory):
    from lts_nb.models import tiny_lm
    folders = {}
    for rev, seed in (('main', 0), ('step1', 1), ('step5', 5)):
        d = tmp_path_factory.mktemp(f'repo_{rev}')
        lm = tiny_lm(seed=seed); lm.model.save_pretrained(d); lm.tokenizer.save_pretrained(d)
        folders[('org/tiny', rev)] = d
    h = HubMock(folders); yield h; h.close()

def hub_env(hub, tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(('HF_', 'TRANSFORMERS_'))}
    return {**env, 'HF_ENDPOINT': hub.url, 'HF_HOME': str(tmp_path/'hf_home'), 'HF_HUB_DISABLE_TELEMETRY': '1',
            'LTS_NB_CACHE': str(tmp_path/'lts_cache'), 'OMP_NUM_THREADS': '1', 'TOKENIZERS_PARALLELISM': 'false'}

LOAD = """import json, sys
from lts_nb.models import load_model
from lts_nb.provenance import weights_hash
lm = load_model('org/tiny', revision=sys.argv[1] if sys.argv[1] != '-' else None)
print(json.dumps({'hash': weights_hash(lm), 'revision': lm.revision, 'name': lm.name, 'prefix': lm.prefix_ids}))"""

def load_in_subprocess(hub, tmp_path, rev):
    return subprocess.run([sys.executable, '-c', LOAD, rev], env=hub_env(hub, tmp_path), capture_output=True, text=True, timeout=300)

@pytest.mark.parametrize('rev,seed', [('step5', 5), ('step1', 1), ('-', 0)])
def test_load_model_revision_through_the_hub_client(hub, tmp_path, rev, seed):
    from lts_nb.models import tiny_lm
    from lts_nb.provenance import weights_hash
    r = load_in_subprocess(hub, tmp_path, rev)
    assert r.returncode == 0, r.stderr[-3000:]
    got = json.loads(r.stdout.strip().splitlines()[-1])
    assert got['hash'] == weights_hash(tiny_lm(seed=seed))           # the weights of that revision, not another
    assert got['name'] == 'org/tiny' and got['revision'] == (None if rev == '-' else rev) and got['prefix'] == [256]
    name = 'main' if rev == '-' else rev
    assert {('GET', f'/org/tiny/resolve/{c}/model.safetensors') for c in (name, hub.commits[('org/tiny', name)])} & set(hub.log)
    assert list((tmp_path/'hf_home').rglob('model.safetensors'))       # it went through the HF cache

def test_unknown_revision_is_a_clear_error(hub, tmp_path):
    r = load_in_subprocess(hub, tmp_path, 'step999')
    assert r.returncode == 1 and 'ModelNotAvailable' in r.stderr and "revision 'step999'" in r.stderr, r.stderr[-2000:]

def test_series_cli_ref_at_revision(hub, tmp_path):
    "lts_series (badinput's command) with org/tiny@stepN references: each checkpoint comes from the mock hub."
    out = tmp_path/'series'
    r = subprocess.run([str(BIN/'lts_series'), '--models', 'org/tiny@step1,org/tiny@step5', '--tasks', 'gen_sva_simple,gen_npi_never,gen_anaphor_gender,gen_wh_island',
                        '--steps', '1', '--n_train', '8', '--n_test', '12', '--out', str(out), '--quiet'],
                       env=hub_env(hub, tmp_path), capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    for rev in ('step1', 'step5'):
        assert {('GET', f'/org/tiny/resolve/{c}/model.safetensors') for c in (rev, hub.commits[('org/tiny', rev)])} & set(hub.log)
    assert re.search(r'\b1\b', r.stdout) and re.search(r'\b5\b', r.stdout), r.stdout     # the steps parsed from REF@stepN
