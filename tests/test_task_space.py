import json, os, signal, subprocess, sys, time
from pathlib import Path
import numpy as np
import pytest

BIN = Path(sys.executable).parent
TASKS = 'gen_sva_simple,gen_sva_attractor,gen_npi_never,gen_npi_only'
ARGS = ['--tasks', TASKS, '--steps', '20', '--n_train', '8', '--n_test', '16', '--batch_size', '4', '--lr', '1e-3', '--quiet']

def cli(model, out, *extra):
    return [str(BIN/'lts_task_space'), '--model', str(model), '--out', str(out), *ARGS, *extra]

def matrices(out):
    with np.load(Path(out)/'task_space.npz') as z: return {k: z[k] for k in z.files}

@pytest.fixture(scope='module')
def reference(tiny_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp('ref')/'ts'
    r = subprocess.run(cli(tiny_dir, out), capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stderr
    return out, r

def test_cli_writes_task_space(reference):
    out, r = reference
    js = json.loads((out/'task_space.json').read_text())
    assert js['tasks'] == TASKS.split(',')
    for k in ('transfer', 'gradsim', 'sharing', 'hypothesis'): assert np.array(js[k], dtype=float).shape == (4, 4)
    for sp in ('transfer', 'gradsim', 'sharing'): assert {'spearman', 'mantel_p', 'within_across_ratio'} <= set(js['stats'][sp])
    assert 'mantel_p' in r.stdout

def test_same_seed_same_matrices(reference, tiny_dir, tmp_path):
    out, _ = reference
    r = subprocess.run(cli(tiny_dir, tmp_path/'again'), capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stderr
    a, b = matrices(out), matrices(tmp_path/'again')
    for k in a: np.testing.assert_array_equal(a[k], b[k])

def test_killed_run_resumes(reference, tiny_dir, tmp_path):
    "SIGKILL the CLI once the first task is tuned; the re-run skips what was done and ends with the same matrices."
    out = tmp_path/'killed'
    p = subprocess.Popen(cli(tiny_dir, out), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    log = out/'log.txt'
    deadline = time.time() + 600
    while time.time() < deadline and p.poll() is None:
        if log.exists() and ' tune ' in log.read_text(): break
        time.sleep(0.2)
    assert p.poll() is None, 'the run finished before it could be killed'
    p.send_signal(signal.SIGKILL); p.wait()
    assert not (out/'task_space.json').exists()
    n_before = len(log.read_text().splitlines())
    r = subprocess.run(cli(tiny_dir, out), capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stderr
    new = log.read_text().splitlines()[n_before:]
    assert any('eval1: done before, skipped' in l for l in new)
    assert sum('grads' in l and 'skipped' in l for l in new) == 4        # all sketches were done before the kill
    assert any('tune' in l and 'skipped' in l for l in new)               # the first tuned task is not redone
    ref = matrices(reference[0])
    for k, v in matrices(out).items(): np.testing.assert_array_equal(v, ref[k])

def test_bad_input(tiny_dir, tmp_path):
    r = subprocess.run(cli(tiny_dir, tmp_path/'x', '--tasks', 'gen_sva_simple,gen_nope,gen_npi_only'), capture_output=True, text=True)
    assert r.returncode == 2 and "unknown generated task(s) ['gen_nope']" in r.stderr
    r = subprocess.run(cli(tiny_dir, tmp_path/'y', '--tasks', 'gen_sva_simple,gen_npi_only'), capture_output=True, text=True)
    assert r.returncode == 2 and 'at least 3 tasks' in r.stderr
    r = subprocess.run(cli('/no/model', tmp_path/'z'), capture_output=True, text=True)
    assert r.returncode == 2 and 'no such model directory' in r.stderr

def test_ray_engine_equals_sequential(reference, tiny_dir, tmp_path):
    "The Ray engine (local ray.init, one CPU per job) gives the sequential engine's matrices, to the last bit."
    pytest.importorskip('ray')
    out = tmp_path/'ray'
    r = subprocess.run(cli(tiny_dir, out, '--engine', 'ray'), capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stderr
    assert 'engine ray' in (out/'log.txt').read_text()
    ref = matrices(reference[0])
    for k, v in matrices(out).items(): np.testing.assert_array_equal(v, ref[k])

def test_unknown_engine(tiny_dir, tmp_path):
    r = subprocess.run(cli(tiny_dir, tmp_path/'e', '--engine', 'spark'), capture_output=True, text=True)
    assert r.returncode == 2 and "argument --engine: invalid choice: 'spark'" in r.stderr
