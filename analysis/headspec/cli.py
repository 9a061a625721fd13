"""The command line: `python3 -m headspec summary RESULTS.h5 [--csv]`,
`python3 -m headspec numbers RESULTS.h5 [--csv]` and
`python3 -m headspec plot KIND RESULTS.h5 -o OUT.png [options]`."""
import argparse
import os
import sys

import pandas as pd

from . import FormatError, open_results
from .kinds import KINDS, plot
from .query import PlotError
from ._version import __version__

PLOT_HELP = """kinds:
  dynamics  loss (top) and m_hk per head (bottom) against t: ODE lines, SGD
            markers, Bayes risk dotted; panels: activation; lines: up to 2 keys
  heatmap   a final quantity (--q, default ode_cosine) over two swept keys
            (--x, --y); panels: up to 2 keys (seeds: --mean seed or --select)
  vs        a final quantity (--q; default the first stored of sgd_lpop_fresh,
            ode_loss_fresh, sgd_test_loss, ode_loss) against one swept key
            (--x, default H); lines: activation; seeds averaged (error bars:
            standard error over seeds combined with Q_se when stored); R*
            dotted with a +-SE band (--bayes OTHER.h5: R* from another
            file, matched on the shared swept keys); panels: 1 key
  pruning   Lpop against heads kept (ODE if run, else SGD; --source); lines:
            activation and H; panels: 1 key
  maps      attention weights A_hl of the final model (--map N); panels: rows
            and columns of up to 2 keys (activation, H)
  heads     each head's path in the plane (m_h1, m_h2) (flipping: mean
            direction, flipping direction): ODE lines, SGD dots (--source
            to draw one), start and end marked; --vs-time: m_h1, m_h2
            against t; panels: up to 2 keys (H, activation, seed)
  features  m_hk against t, one row per spike k (--overlay: one subplot,
            a colour per spike), a line per head, ODE lines, SGD dots;
            --logx; columns: 1 key (seed, activation)
  attention heads switching off: quiet heads (top) and the mean softmax1
            sink weight (bottom) against t, log axis (ODE if run, else SGD;
            --source); lines: activation and H; panels: 1 key
Points still moving at their end (ode/converged or sgd/converged 0) are
marked: dashed lines, or an x (vs, heatmap); the legend says "not
converged at t_max".
Every swept key not on an axis must become a panel or a line (filled in
order), or be chosen with --select KEY=VALUE or --mean KEY; otherwise the
command refuses and names the key. --q takes a points column (see `summary`)
or a stored field (its last record, e.g. sgd/lpop)."""


def split(values):
    """Repeated and comma-separated option values as one list:
    ['a,b', 'c'] -> ['a', 'b', 'c']."""
    out = []
    for v in values or ():
        out += [x for x in str(v).split(",") if x]
    return out


def parse_select(items):
    """['b2=1', 'activation=softmax,seed=2'] -> {'b2': '1', ...}."""
    out = {}
    for item in split(items):
        if "=" not in item:
            raise PlotError("--select %s: write KEY=VALUE" % item)
        k, v = item.split("=", 1)
        out[k.strip()] = v.strip()
    return out


def _summary(args):
    with open_results(args.results) as r:
        df = r.points
        if args.csv:
            df.to_csv(sys.stdout)
            return 0
        print(r)
        print("written by", r.attrs.get("software_build") or "headspec %s (commit %s)" % (
            r.attrs.get("software_version", "?"), r.attrs.get("git_commit", "?")))
        fixed = ", ".join("%s=%s" % (k, v) for k, v in r.fixed.items())
        print("fixed:", fixed)
        # the out-of-sample columns only when the file stores them
        cols = [c for c in df.columns if c not in ("label", "message", "host")
                and not ("_fresh" in c and df[c].isna().all())]
        with pd.option_context("display.width", 200, "display.max_columns", 40,
                               "display.max_rows", args.rows, "display.precision", 4):
            print(df[cols].to_string(max_rows=args.rows) if len(df) <= args.rows else df[cols])
        failed = df[df.status == "failed"]
        for i, row in failed.iterrows():
            print("point %d failed: %s" % (i, row.message))
    return 0


def _numbers(args):
    from .derived import ESCAPE_THRESHOLD, numbers
    with open_results(args.results) as r:
        df = numbers(r, source=args.source, frac=args.frac)
    if args.csv:
        df.to_csv(sys.stdout)
        return 0
    keep = [c for c in df.columns if df[c].dtype == object or str(df[c].dtype) == "category"
            or not df[c].isna().all()]
    print("# spikes k = 1..K, heads h = 1..H; escape <part>_esc<k>: first t where max_h |m_hk| "
          "reaches the point's analysis.stability_threshold (default %g; the ODE's rule, for SGD "
          "alike); learned: max_h |m_hk| at or above it at the end; learn time <part>_t<k>: "
          "first t with max_h |m_hk| > %g x its final value (NaN: not learned); order: spikes "
          "first learned first, then those not learned; sign: heads with m_hk > 0 / < 0 at the "
          "end" % (ESCAPE_THRESHOLD, args.frac))
    if "stab_pred1" in df.columns:
        print("# stab_pred<k>, stab_meas<k>: the linearised flow's predicted and the ODE's "
              "measured escape time of spike k; stab_half<k>: half-of-final learn time")
    if "stab_pred1_rep" in df.columns:
        print("# stab_pred<k>_rep ± stab_pred<k>_rep_se: the prediction's mean ± se over the "
              "ODE's replicas (each on its own sample set)")
    with pd.option_context("display.width", 250, "display.max_columns", 60,
                           "display.max_rows", 10000, "display.precision", 4):
        print(df[keep].to_string())
    return 0


def _plot(args):
    kw = dict(select=parse_select(args.select), mean=split(args.mean),
              panels=split(args.panels), lines=split(args.lines))
    if args.kind in ("heatmap", "vs"):
        kw.update(x=args.x, q=args.q)
    if args.kind == "heatmap":
        kw.update(y=args.y)
    if args.kind == "dynamics":
        kw.update(loss=args.loss)
    if args.kind == "features":
        kw.update(overlay=args.overlay, logx=args.logx)
    if args.kind in ("pruning", "maps", "heads", "features", "attention"):
        kw.update(source=args.source)
    if args.kind == "heads":
        kw.update(vs_time=args.vs_time)
    if args.kind == "maps":
        kw.update(map_index=args.map)
    if args.kind != "vs" and args.bayes:
        raise PlotError("--bayes is for plot vs")
    with open_results(args.results) as r:
        if args.bayes:
            with open_results(args.bayes) as other:
                plot(r, args.kind, args.output, bayes=other, **kw)
        else:
            plot(r, args.kind, args.output, **kw)
    print("wrote", args.output)
    return 0


def main(argv=None):
    p = argparse.ArgumentParser(prog="python3 -m headspec",
                                description="Tables and figures from headspec results files.")
    p.add_argument("--version", action="version", version="headspec %s (Python package)" % __version__)
    sub = p.add_subparsers(dest="command", required=True)
    s = sub.add_parser("summary", help="print the points table")
    s.add_argument("results")
    s.add_argument("--csv", action="store_true", help="the whole table as CSV")
    s.add_argument("--rows", type=int, default=60, help="rows shown before eliding")
    s.set_defaults(run=_summary)
    n = sub.add_parser("numbers", help="per point: final losses, fresh losses and SE, R*, "
                       "learn times and head signs per spike")
    n.add_argument("results")
    n.add_argument("--csv", action="store_true", help="every column as CSV (for scripts)")
    n.add_argument("--frac", type=float, default=0.5,
                   help="learn time threshold: this fraction of the final max_h |m_hk|")
    n.add_argument("--source", choices=("ode", "sgd"), help="only this part's learn times")
    n.set_defaults(run=_numbers)
    q = sub.add_parser("plot", help="draw a figure", epilog=PLOT_HELP,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    q.add_argument("kind", choices=KINDS)
    q.add_argument("results")
    q.add_argument("-o", "--output", required=True, help="OUT.png or OUT.pdf")
    q.add_argument("--select", action="append", metavar="KEY=VALUE",
                   help="keep one value of a swept key (repeat or comma-separate)")
    q.add_argument("--mean", action="append", metavar="KEY", help="average over a swept key")
    q.add_argument("--panels", action="append", metavar="KEY", help="swept key(s) as panels")
    q.add_argument("--lines", action="append", metavar="KEY", help="swept key(s) as lines")
    q.add_argument("--x", help="swept key on the x axis (heatmap, vs)")
    q.add_argument("--y", help="swept key on the y axis (heatmap)")
    q.add_argument("--q", help="quantity (heatmap, vs)")
    q.add_argument("--bayes", metavar="OTHER.h5",
                   help="vs: take R* from another results file (e.g. a Bayes-only job)")
    q.add_argument("--loss", default="lpop", choices=("lpop", "test_loss"),
                   help="SGD loss in dynamics (default lpop: comparable to the ODE's)")
    q.add_argument("--source", choices=("ode", "sgd"),
                   help="pruning, maps: whose final model; heads, features, attention: "
                   "draw only this one")
    q.add_argument("--overlay", action="store_true",
                   help="features: every spike in one subplot (a colour per spike)")
    q.add_argument("--logx", action="store_true", help="features: log time axis (t > 0)")
    q.add_argument("--vs-time", action="store_true", help="heads: m_h1, m_h2 against t")
    q.add_argument("--map", type=int, default=0, help="maps: which sampled sequence")
    q.set_defaults(run=_plot)
    args = p.parse_args(argv)
    try:
        return args.run(args)
    except BrokenPipeError:  # e.g. | head: stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except (PlotError, FormatError, KeyError, OSError) as e:
        msg = e.args[0] if isinstance(e, KeyError) and e.args else e
        print("headspec %s: %s" % (args.command, msg), file=sys.stderr)
        return 2
