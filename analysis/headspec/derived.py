"""Per-point measures derived from the stored results (MODEL.md section 8)."""
import numpy as np

DESCRIPTIONS = {
    "sgd_test_loss": "SGD test loss (fixed test set) at the last record",
    "sgd_lpop": "Lpop at the SGD's measured order parameters, last record",
    "ode_loss": "Lpop along the ODE at the last record",
    "sgd_lpop_fresh": "Lpop of the final SGD state on fresh samples (out of sample)",
    "sgd_lpop_fresh_se": "standard error of sgd_lpop_fresh",
    "ode_loss_fresh": "Lpop of the final ODE state on fresh samples (out of sample)",
    "ode_loss_fresh_se": "standard error of ode_loss_fresh",
    "bayes_risk": "Bayes risk R* (Monte Carlo)",
    "bayes_risk_se": "Monte Carlo standard error of R*",
    "sgd_gap": "sgd_test_loss - bayes_risk",
    "ode_gap": "ode_loss - bayes_risk",
    "sgd_cosine": "mean over head pairs h < h' of cos(m_h, m_h'), final SGD m",
    "ode_cosine": "mean over head pairs h < h' of cos(m_h, m_h'), final ODE m",
    "sgd_spec": "mean over heads of |m_h orthogonal to mu|, final SGD m",
    "ode_spec": "mean over heads of |m_h orthogonal to mu|, final ODE m",
    "seconds": "wall time of the point",
}


def head_cosine(m):
    """Head similarity of an H x K overlap matrix m (rows m_h = the head's
    projections on the spikes): the mean over the H(H-1)/2 pairs h < h' of
    cos(m_h, m_h') = <m_h, m_h'> / (|m_h| |m_h'|). 1: the heads point the
    same way in spike space; -1 (for H = 2): opposite (specialised heads
    of flipping). NaN for H = 1 or when a head has m_h = 0."""
    m = np.asarray(m, dtype=float)
    if m.ndim != 2 or m.shape[0] < 2:
        return np.nan
    norms = np.linalg.norm(m, axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        cos = (m @ m.T) / np.outer(norms, norms)
    h, hp = np.triu_indices(m.shape[0], k=1)
    return float(np.mean(cos[h, hp]))


def specialisation(m, mu):
    """Specialisation of an H x K overlap matrix m: the mean over heads of
    the norm of m_h's component orthogonal to mu = E[c]:
    |m_h - (<m_h, mu>/|mu|^2) mu|. For flipping (mu = (b1, 0)) this is
    |m_h2|; where mu = 0 (signed onehot, gaussian) it is |m_h|."""
    m = np.asarray(m, dtype=float)
    mu = np.asarray(mu, dtype=float)
    if m.ndim != 2 or mu.shape != (m.shape[1],) or not np.all(np.isfinite(mu)):
        return np.nan
    nmu = mu @ mu
    perp = m - np.outer(m @ mu / nmu, mu) if nmu > 0 else m
    return float(np.mean(np.linalg.norm(perp, axis=1)))


def mean_feature(distribution, K, b1=np.nan, beta=np.nan, signed=0, discrete=None):
    """mu = E[c] (MODEL.md section 1): (b1, 0) for flipping, (beta/K) 1 for
    unsigned onehot, 0 for signed onehot and gaussian, sum_j p_j c_j for
    discrete (given as `discrete`, else None: unknown)."""
    if distribution == "flipping":
        return np.array([b1, 0.0])
    if distribution == "onehot":
        return np.zeros(K) if signed == 1 else np.full(K, beta / K)
    if distribution == "gaussian":
        return np.zeros(K)
    if distribution == "discrete" and discrete is not None and len(discrete) == K:
        return np.asarray(discrete, dtype=float)
    return None
