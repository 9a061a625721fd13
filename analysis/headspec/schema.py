"""The names a results file's layout fixes (docs/RESULTS.md, "The file"),
shared by the modules that read it: which formats and layout revisions
exist, which /grid columns are bookkeeping, which datasets are
coordinates, how heads and tokens are counted, and which final values
are columns of the points table. Constants only: it imports nothing of
the package, so every reading module can import it.
"""
SUPPORTED_FORMATS = (1, 2)
LAYOUT_REVISION = 2  # /grid key_order and results mean_c: written since this revision
STATIC_CHECKSUMS = 4  # datasets written once carry a `checksum` since this revision
# /grid columns of the run record: covered by each point's checksum
RUN_RECORD = ("status", "message", "rank", "host", "started", "finished", "checksum")
# What h5py and h5netcdf raise on a file they cannot read
READ_ERRORS = (OSError, RuntimeError, KeyError, ValueError, TypeError, AttributeError,
               IndexError)

# /grid columns that are bookkeeping, not job keys.
BOOKKEEPING = ("point", "status", "message", "rank", "host", "started", "finished",
               "group", "row", "label", "checksum")
STATUS_NAMES = {0: "pending", 1: "done", 2: "failed"}
STATUS_ORDER = ["done", "pending", "failed"]
# Attributes of a dataset the package passes on (to a DataArray, key_info).
ATTRS = ("units", "long_name", "description")
# Datasets a results group holds that are dimension scales, not results.
COORDS = ("point", "time", "head", "head2", "spike", "spike2", "token", "map", "kept",
          "removal", "replica")
# The parts of a results group: its own datasets ('') and its subgroups.
PARTS = ("", "sgd", "ode", "stability", "replicas")  # replicas/: where ode.replicas >= 2
# Heads h, spikes (features) k and tokens l count from 1, as in the paper
# (docs/RESULTS.md, "Counting"): the file's 0-based indices of these
# dimensions are relabelled 1..n, and the fields whose values name a head
# or a token (the pruned heads, the relevant token) read 1-based too.
FROM_ONE = ("head", "head2", "spike", "spike2", "token")
FROM_ONE_VALUES = ("prune_order", "maps_eps")
# The final values of these fields are columns of the points table.
FINALS = {"sgd_test_loss": "sgd/test_loss", "sgd_lpop": "sgd/lpop",
          "ode_loss": "ode/loss", "bayes_risk": "bayes_risk",
          "bayes_risk_se": "bayes_risk_se", "sgd_lpop_fresh": "sgd/lpop_fresh",
          "sgd_lpop_fresh_se": "sgd/lpop_fresh_se", "ode_loss_fresh": "ode/loss_fresh",
          "ode_loss_fresh_se": "ode/loss_fresh_se",
          # convergence (layout revision 3): NaN in older files
          "ode_converged": "ode/converged", "sgd_converged": "sgd/converged",
          "ode_loss_rate": "ode/loss_rate", "sgd_loss_rate": "sgd/loss_rate",
          "ode_speed": "ode/speed", "sgd_speed": "sgd/speed", "ode_t_stop": "ode/t_stop"}
