#!/usr/bin/env bash
# t_max swept and a zip group (b1, b2 as pairs) in one job (tests/test_zip.c
# checks the grid's order): each point's stored results equal, bit for bit,
# those of the same point run alone as a one-point job of its own t_max; its
# record times are its own (ode/t against the log grid's closed form, sgd/t
# and sgd/step that rounded to whole steps); the results' time coordinate is
# the record index, and a one-point file's the nominal times as before; the
# file resumes, and a file of one t_max grows into the swept job with its
# points kept.
set -u
. "$(dirname "$0")/lib.sh"

job() { # OUTPUT T_MAX
  cat <<EOF
output: $1
job_seed: 5
zip: [[model.b1, model.b2]]
model:
  distribution: flipping
  b1: [0.5, 1.5, 1.5]
  b2: [0.5, 0.5, 1.5]
  activation: [softmax, softmax1]
  H: 2
  L: 4
training:
  d: 30
  eta: 0.5
  t_max: $2
  records: 5
  record_grid: log
  t_min: 0.1
  test_samples: 20
ode:
  samples: 200
analysis:
  bayes_samples: 500
  maps: 1
EOF
}
job horizons.h5 "[0.5, 2]" >horizons.yaml
"$headspec" validate horizons.yaml >validate.log 2>&1
grep -q "zipped: b1 b2: (0.5, 0.5) (1.5, 0.5) (1.5, 1.5)$" validate.log
ok $? "validate shows the pairs: $(cat validate.log)"
"$headspec" run --quiet horizons.yaml 2>run.log; ok $? "the job runs: $(cat run.log)"

$py - <<'EOF'; ok $? "the grid, the time coordinate and each point's own record times"
import h5py, numpy as np, sys
bad = []
with h5py.File("horizons.h5", "r") as f:
    g = f["grid"]
    want = [(b1, b2, act, t) for b1, b2 in [(0.5, 0.5), (1.5, 0.5), (1.5, 1.5)]
            for act in ["softmax", "softmax1"] for t in [0.5, 2.0]]
    got = list(zip(g["b1"][:], g["b2"][:], [a.decode() for a in g["activation"][:]], g["t_max"][:]))
    if got != want: bad.append("points %s, want %s" % (got, want))
    dec = lambda v: [x.decode() if isinstance(x, bytes) else x for x in v]
    if dec(g.attrs["zipped_keys"]) != ["b1 b2"]: bad.append("zipped_keys %s" % g.attrs["zipped_keys"])
    if not {"b1", "b2", "activation", "t_max"} <= set(dec(g.attrs["swept_keys"])): bad.append("swept_keys")
    (name,) = list(f["results"])
    r = f["results"][name]
    for folder in ["", "sgd/", "ode/"]:
        c = r[folder + "time"]
        if not np.array_equal(c[:], np.arange(5.0)): bad.append(folder + "time = %s" % c[:])
        if not c.attrs["long_name"].decode().startswith("record index"): bad.append("long_name")
    for i in range(len(want)):
        t_max, row = want[i][3], g["row"][i]
        closed = np.r_[0, np.exp(np.linspace(np.log(0.1), np.log(t_max), 4))]
        steps = np.round(closed * 30 / 0.5)  # SGD records at whole steps eta / d
        for field, want_t in [("ode/t", closed), ("sgd/t", steps * 0.5 / 30)]:
            if not np.allclose(r[field][row], want_t, rtol=1e-12, atol=0):
                bad.append("point %d %s = %s, want %s" % (i, field, r[field][row], want_t))
        if not np.array_equal(r["sgd/step"][row], steps): bad.append("point %d sgd/step" % i)
print("\n".join(bad))
sys.exit(1 if bad else 0)
EOF

"$headspec" run --quiet horizons.yaml 2>again.log
grep -q "resuming: 12 points done, 0 to compute" again.log; ok $? "it resumes: $(cat again.log)"

mkdir alone && $py "$src/tests/point_jobs.py" horizons.h5 horizons.yaml alone; ok $? "one-point jobs"
(cd alone && ls point*.yaml | xargs -P 2 -I{} "$headspec" run --quiet {} 2>alone.log)
ok $? "one-point runs: $(sort -u alone/alone.log | head -3)"
bad=0
for i in $(seq 0 11); do
  $py "$src/tests/same_point.py" horizons.h5 "$i" "alone/point$i.h5" || bad=$((bad + 1))
done
[ $bad -eq 0 ]; ok $? "every point equals the same point run alone ($bad differ)"
$py - <<'EOF'; ok $? "a one-point file's time coordinate: the nominal record times"
import h5py, numpy as np, sys
with h5py.File("alone/point1.h5", "r") as f:
    r = f["results"][list(f["results"])[0]]
    closed = np.r_[0, np.exp(np.linspace(np.log(0.1), np.log(2.0), 4))]
    sys.exit(0 if np.allclose(r["sgd/time"][:], closed, rtol=1e-12, atol=0)
             and r["sgd/time"].attrs["long_name"] == b"nominal record time t" else 1)
EOF

# A file of one t_max (nominal time coordinate) grows into the swept job.
job grow.h5 0.5 >grow1.yaml
job grow.h5 "[0.5, 2]" >grow2.yaml
"$headspec" run --quiet grow1.yaml 2>grow.log; ok $? "one t_max: $(cat grow.log)"
"$headspec" run --quiet grow2.yaml 2>grow.log
grep -q "6 points reused, 6 to compute" grow.log; ok $? "t_max swept: the file grows: $(cat grow.log)"
bad=0
for i in $(seq 0 11); do
  $py "$src/tests/same_point.py" grow.h5 "$i" "alone/point$i.h5" || bad=$((bad + 1))
done
[ $bad -eq 0 ]; ok $? "the grown file's points (reused and new) equal those run alone ($bad differ)"
finish horizons_sweep
