"""Write one job file per grid point of a results file: the point alone,
with every key it reads set to its value there (keys a point does not read
are left out) and the same job seed.
usage: point_jobs.py RESULTS.h5 JOB.yaml OUTDIR  (writes OUTDIR/point<i>.yaml)"""
import os
import sys

import h5py
import numpy as np

SECTIONS = {  # /grid column -> (section, key), for the keys of the job table
    "training_run": ("training", "run"), "ode_run": ("ode", "run"),
}
MODEL = "distribution b1 b2 beta K signed bmin bmax activation H L sigma0 seed orthonormal_spikes".split()
TRAINING = "d eta B kappa test_samples t_max records record_grid t_min".split()
ODE = "noise_term samples antithetic rtol atol start start_noise".split()
ANALYSIS = "bayes_samples maps prune".split()
BOOLS = {"signed", "orthonormal_spikes", "training_run", "ode_run", "noise_term", "antithetic", "prune"}

path, job_path, outdir = sys.argv[1:4]
with h5py.File(path, "r") as f:
    g = f["grid"]
    n = int(f.attrs["n_points"])
    job_seed = [l.split(":")[1].strip() for l in open(job_path) if l.startswith("job_seed:")]
    for i in range(n):
        sections = {"model": {}, "training": {}, "ode": {}, "analysis": {}}
        for col in g:
            key = SECTIONS.get(col, (None, col))
            name = key[1]
            sec = key[0] or next((s for s, names in (("model", MODEL), ("training", TRAINING),
                                                      ("ode", ODE), ("analysis", ANALYSIS))
                                  if name in names), None)
            if sec is None:
                continue
            v = g[col][i]
            if isinstance(v, bytes):
                if not v:
                    continue
                text = v.decode()
            elif isinstance(v, (float, np.floating)):
                if np.isnan(v):
                    continue
                text = repr(float(v))
            else:
                if v == -1:
                    continue
                text = ("true" if v else "false") if col in BOOLS else str(int(v))
            sections[sec][name] = text
        with open(os.path.join(outdir, "point%d.yaml" % i), "w") as out:
            out.write("output: point%d.h5\n" % i)
            if job_seed:
                out.write("job_seed: %s\n" % job_seed[0])
            for sec, keys in sections.items():
                out.write(sec + ":\n")
                for k, v in keys.items():
                    out.write("  %s: %s\n" % (k, v))
