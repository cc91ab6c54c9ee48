"""Kill the task-space demo midway, re-run it, and compare with an uninterrupted run (issue: resumable runner).

    python bench/resume_demo.py --reference runs/demo --out runs/demo_resume [--kill_after 6]

Starts `lts_task_space` (the README demo's arguments) into --out, SIGKILLs it once `--kill_after` tasks are tuned
(as its log shows), runs the same command again, and checks that (1) the second run skipped everything the first
had finished (log lines "done before, skipped") and (2) the final matrices equal those of the uninterrupted
--reference run with the same arguments, array for array. Writes bench/results/resume_demo.json.
"""
import argparse, json, signal, subprocess, sys, time
from pathlib import Path
import numpy as np

ap = argparse.ArgumentParser()
ap.add_argument('--reference', default='runs/demo')
ap.add_argument('--out', default='runs/demo_resume')
ap.add_argument('--kill_after', type=int, default=6)
ap.add_argument('--model', default='smollm2-135m')
a = ap.parse_args()
out, log = Path(a.out), Path(a.out)/'log.txt'
if out.exists(): sys.exit(f"{out} exists: pass a fresh --out")
cmd = [str(Path(sys.executable).parent/'lts_task_space'), '--model', a.model, '--tasks', 'demo', '--out', str(out), '--quiet']

t0 = time.perf_counter()
p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
while p.poll() is None:
    if log.exists() and sum(' tune ' in l for l in log.read_text().splitlines()) >= a.kill_after: break
    time.sleep(1)
p.send_signal(signal.SIGKILL); p.wait()
first = log.read_text().splitlines()
killed_s = time.perf_counter() - t0
r = subprocess.run(cmd, capture_output=True, text=True)
second = log.read_text().splitlines()[len(first):]
with np.load(out/'task_space.npz') as z1, np.load(Path(a.reference)/'task_space.npz') as z2:
    equal = {k: bool(np.array_equal(z1[k], z2[k], equal_nan=True)) for k in z2.files}
res = {'cmd': ' '.join(cmd), 'killed_after_s': round(killed_s, 1), 'tasks_tuned_before_kill': sum(' tune ' in l for l in first),
       'rerun_returncode': r.returncode, 'rerun_s': round(time.perf_counter() - t0 - killed_s, 1),
       'rerun_skipped': [l for l in second if 'skipped' in l], 'rerun_computed': [l for l in second if ' tune ' in l and 'skipped' not in l],
       'equal_to_reference': equal, 'log_before_kill': first, 'log_rerun': second}
print(json.dumps(res, indent=1))
Path('bench/results/resume_demo.json').write_text(json.dumps(res, indent=1))
sys.exit(0 if r.returncode == 0 and all(equal.values()) else 1)
