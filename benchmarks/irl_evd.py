r"""Expected value difference against the number of demonstrations, as in the IRL papers.

Run from the repository root::

    python benchmarks/irl_evd.py                 # --quick: 2, 8, 32, 128 demos, 3 seeds (~3 min)
    python benchmarks/irl_evd.py --full          # 1, 2, 4, ..., 128 demos, 5 seeds (~10 min)
    python benchmarks/irl_evd.py --worlds binaryworld --seeds 3 --demos 8 32

Set-up (``ctrlinf.irl.experiment``), after Levine, Popović & Koltun, *Nonlinear
Inverse Reinforcement Learning with Gaussian Processes* (NIPS 2011), objectworld,
and Wulfmeier, Ondruska & Posner, *Maximum Entropy Deep Inverse Reinforcement
Learning* (arXiv:1507.04888), binaryworld:

- 32x32 grid, 5 actions, wind 0.3; objectworld with 2 inner and 2 outer colours and
  the discrete "distance < d" features (K = 128); binaryworld with the 9 neighbourhood
  colours (K = 9).
- Demos: 8 steps each from a uniform start, sampled from the soft-optimal policy of
  the true reward in the 8-step world; the sets for fewer demos are prefixes of the
  largest, so the curves share their noise.
- Methods: linear MaxEnt IRL (``mode="exact"``), linear maximum causal entropy IRL
  (``mode="soft"``), both with l2 = 0.01; deep MaxEnt IRL (MLP 32-32 ReLU on the
  same features, soft, Adam, 300 steps, weight decay 0.1). The model's ``p0`` is the
  demos' start distribution.
- EVD: in the infinite-horizon world with γ = 0.9, hard-optimal policies, from a
  uniform start (``ci.irl.expected_value_difference``). "transfer" applies the learned
  reward to the features of freshly drawn worlds of the same kind.
- Bands: mean ± t(0.975, n−1) standard errors over seeds (none with one seed).

Figures: ``figures/irl_<world>_evd.png``. Nothing is asserted; numba runs on one
thread by default (``--threads``) and BLAS on one (``OPENBLAS_NUM_THREADS``),
because on a shared 2-core machine their thread pools fight and each IRL iteration on
a 1024-state world gets ~10x slower.
"""
import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # before numpy starts its threads

import argparse  # noqa: E402
import time  # noqa: E402

import numba  # noqa: E402
import numpy as np  # noqa: E402
from scipy import stats  # noqa: E402

import ctrlinf as ci  # noqa: E402
from ctrlinf.irl.experiment import evaluation_mdp  # noqa: E402
from ctrlinf.irl.experiment import expert_demos  # noqa: E402
from ctrlinf.irl.experiment import fit_method  # noqa: E402

METHODS = {
    "MaxEnt exact (linear)": dict(mode="exact", deep=False),
    "MCE soft (linear)": dict(mode="soft", deep=False),
    "deep MaxEnt soft (MLP)": dict(mode="soft", deep=True),
}
QUICK = dict(demos=(2, 8, 32, 128), seeds=3, transfer=2)
FULL = dict(demos=(1, 2, 4, 8, 16, 32, 64, 128), seeds=5, transfer=3)
FIGURES = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "figures")


def run_seed(world_name, size, seed, demo_counts, n_transfer):
    """All methods and demo counts on one training world; a list of result rows."""
    world = ci.irl.make_world(world_name, size=size, seed=seed)
    evaluation = evaluation_mdp(world)
    transfer = [ci.irl.make_world(world_name, size=size, seed=10_000 + 100 * seed + j)
                for j in range(n_transfer)]
    transfer_eval = [evaluation_mdp(w) for w in transfer]
    all_demos = expert_demos(world, max(demo_counts), seed=seed + 1)
    baseline = {"train": ci.irl.expected_value_difference(evaluation, np.zeros(world.n_states)),
                "transfer": np.mean([ci.irl.expected_value_difference(e, np.zeros(e.n_states))
                                     for e in transfer_eval])}
    rows = []
    for n in demo_counts:
        demos = all_demos[:n]
        for method, options in METHODS.items():
            res, _, seconds = fit_method(world, demos, seed=seed, **options)
            evd_transfer = [ci.irl.expected_value_difference(e, res.reward_for(w.features))
                            for w, e in zip(transfer, transfer_eval)]
            rows.append(dict(world=world_name, method=method, n_demos=n, seed=seed,
                             evd=ci.irl.expected_value_difference(evaluation, res.reward),
                             evd_transfer=float(np.mean(evd_transfer)), seconds=seconds,
                             iterations=res.n_iter, zero_train=baseline["train"],
                             zero_transfer=baseline["transfer"]))
            print(f"  {world_name} seed {seed} n={n:3d} {method:24s} EVD {rows[-1]['evd']:6.3f}"
                  f"  transfer {rows[-1]['evd_transfer']:6.3f}  {seconds:6.2f} s", flush=True)
    return rows


def mean_and_halfwidth(values):
    values = np.asarray(values, dtype=float)
    if values.size < 2:
        return values.mean(), np.nan
    sem = values.std(ddof=1) / np.sqrt(values.size)
    return values.mean(), stats.t.ppf(0.975, values.size - 1) * sem


def summarise(rows):
    """``{(method, n): {"evd": (mean, half), "evd_transfer": ..., "seconds": mean}}``."""
    table = {}
    for method in METHODS:
        for n in sorted({row["n_demos"] for row in rows}):
            sel = [row for row in rows if row["method"] == method and row["n_demos"] == n]
            table[method, n] = {key: mean_and_halfwidth([row[key] for row in sel])
                                for key in ("evd", "evd_transfer", "seconds")}
    return table


def print_table(world_name, rows):
    table = summarise(rows)
    zero = mean_and_halfwidth([row["zero_train"] for row in rows])[0]
    zero_t = mean_and_halfwidth([row["zero_transfer"] for row in rows])[0]
    n_seeds = len({row["seed"] for row in rows})
    print(f"\n{world_name}: EVD (γ = 0.9, hard-optimal policies), mean ± 95% CI over "
          f"{n_seeds} seed(s); a constant reward (random policy) scores {zero:.3f} on the "
          f"training worlds and {zero_t:.3f} on transfer worlds")
    print(f"{'method':26s} {'demos':>5s} {'EVD train':>17s} {'EVD transfer':>17s} {'fit s':>7s}")
    for (method, n), cell in table.items():
        fmt = lambda m, h: f"{m:7.3f} ± {h:6.3f}" if np.isfinite(h) else f"{m:7.3f}"  # noqa: E731
        print(f"{method:26s} {n:5d} {fmt(*cell['evd']):>17s} {fmt(*cell['evd_transfer']):>17s}"
              f" {cell['seconds'][0]:7.2f}")


def plot(world_name, rows, path):
    from matplotlib.figure import Figure

    table = summarise(rows)
    counts = sorted({row["n_demos"] for row in rows})
    fig = Figure(figsize=(10, 4), layout="constrained")
    axes = fig.subplots(1, 2, sharey=True)
    for ax, key, zero_key, title in ((axes[0], "evd", "zero_train", "training world"),
                                     (axes[1], "evd_transfer", "zero_transfer",
                                      "transfer worlds")):
        for i, method in enumerate(METHODS):
            mean = np.array([table[method, n][key][0] for n in counts])
            half = np.nan_to_num(np.array([table[method, n][key][1] for n in counts]))
            ax.plot(counts, mean, "o-", color=f"C{i}", label=method)
            ax.fill_between(counts, mean - half, mean + half, color=f"C{i}", alpha=0.2)
        ax.axhline(np.mean([row[zero_key] for row in rows]), color="grey", ls="--",
                   label="constant reward")
        ax.set_xscale("log", base=2)
        ax.set_xlabel("demonstrations (8 steps each)")
        ax.set_title(title)
    axes[0].set_ylabel("expected value difference")
    axes[0].legend(fontsize=8)
    n_seeds = len({row["seed"] for row in rows})
    fig.suptitle(f"{world_name} 32x32: EVD vs demos ({n_seeds} seeds, 95% bands)")
    fig.savefig(path, dpi=110)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--quick", action="store_true", help="the default: 4 demo counts, 3 seeds")
    mode.add_argument("--full", action="store_true", help="1..128 demos, 5 seeds")
    parser.add_argument("--worlds", nargs="+", default=["objectworld", "binaryworld"],
                        choices=["objectworld", "binaryworld"])
    parser.add_argument("--demos", nargs="+", type=int, help="override the demo counts")
    parser.add_argument("--seeds", type=int, help="override the number of seeds")
    parser.add_argument("--size", type=int, default=32)
    parser.add_argument("--threads", type=int, default=1, help="numba threads (default 1)")
    parser.add_argument("--no-plot", action="store_true")
    args = parser.parse_args(argv)
    settings = dict(FULL if args.full else QUICK)
    if args.demos:
        settings["demos"] = tuple(args.demos)
    if args.seeds:
        settings["seeds"] = args.seeds
    numba.set_num_threads(args.threads)
    print(f"load average {os.getloadavg()}; numba threads {args.threads}; settings {settings}")
    for world_name in args.worlds:
        start = time.perf_counter()
        rows = [row for seed in range(settings["seeds"])
                for row in run_seed(world_name, args.size, seed, settings["demos"],
                                    settings["transfer"])]
        print_table(world_name, rows)
        print(f"({time.perf_counter() - start:.0f} s)")
        if not args.no_plot:
            path = os.path.join(FIGURES, f"irl_{world_name}_evd.png")
            plot(world_name, rows, path)
            print(f"wrote {path}")


if __name__ == "__main__":
    main()
