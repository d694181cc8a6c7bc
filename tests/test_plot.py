"""ctrlinf.plot: every figure renders headless, returns Figure/Axes, draws into a given
ax, and its arrays are the quantities the lecture defines."""
import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib import colors  # noqa: E402
from matplotlib.collections import EllipseCollection  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.quiver import Quiver  # noqa: E402
from numpy.testing import assert_allclose  # noqa: E402
from PIL import Image  # noqa: E402

import ctrlinf as ci  # noqa: E402
from ctrlinf.demo import build_world  # noqa: E402
from ctrlinf.plot._common import WALL_COLOUR  # noqa: E402
from ctrlinf.plot.messages import ROW_LABELS, message_rows  # noqa: E402

LAYOUT = ["S..#.",
          ".#..X",
          "...#G"]
T = 8


@pytest.fixture(autouse=True)
def _no_global_effects(monkeypatch):
    """Plots must not call plt.show() nor change rcParams; close what each test opens."""
    def show(*args, **kwargs):
        raise AssertionError("a plot function called plt.show()")

    monkeypatch.setattr(plt, "show", show)
    before = dict(matplotlib.rcParams)
    yield
    assert dict(matplotlib.rcParams) == before
    plt.close("all")


@pytest.fixture(scope="module")
def grid():
    return ci.envs.gridworld_from_map(LAYOUT, slip=0.1, rewards={"G": 2.0}, horizon=T)


@pytest.fixture(scope="module")
def chain():
    """An MDP without a grid: drawn as bars over states."""
    return ci.envs.random_mdp(6, 2, seed=0, horizon=T)


@pytest.fixture(scope="module")
def exact(grid):
    return ci.solve(grid, mode="exact")


@pytest.fixture(scope="module")
def soft(grid):
    return ci.solve(grid, mode="soft")


def assert_renders(fig, tmp_path, name="figure", min_bytes=5_000):
    """Save as PNG: the file is not tiny and the picture is not one flat colour."""
    path = tmp_path / f"{name}.png"
    fig.savefig(path)
    assert path.stat().st_size > min_bytes
    pixels = np.asarray(Image.open(path).convert("RGB")).reshape(-1, 3)
    assert len(np.unique(pixels, axis=0)) > 10


def pixel_at(ax, x, y):
    """RGB (0..1) of the rendered figure at data point (x, y) of ``ax``."""
    fig = ax.figure
    fig.canvas.draw()
    buffer = np.asarray(fig.canvas.buffer_rgba())
    px, py = ax.transData.transform((x, y))
    return buffer[buffer.shape[0] - int(round(py)), int(round(px)), :3] / 255.0


# -- heatmap / state_bars ------------------------------------------------------------

def test_heatmap_draws_cells_walls_letters_and_colorbar(grid, exact, tmp_path):
    ax = ci.plot.heatmap(grid, exact.V[0], title="V_0", label="V")
    assert isinstance(ax, Axes)
    assert len(ax.figure.axes) == 2  # the map and its colour bar
    image = ax.images[0].get_array()
    assert image.shape == grid.shape
    assert image.mask[0, 3] and not image.mask[0, 0]  # walls are not coloured by value
    assert_allclose(pixel_at(ax, 3, 0), colors.to_rgb(WALL_COLOUR), atol=0.02)
    assert {t.get_text() for t in ax.texts} == {"S", "G", "X"}
    assert ax.get_title() == "V_0"
    assert_renders(ax.figure, tmp_path)


def test_heatmap_draws_into_given_ax(grid, exact):
    fig, axes = plt.subplots(1, 2)
    ax = ci.plot.heatmap(grid, exact.V[1], ax=axes[1], colorbar=False, mark_start=False)
    assert ax is axes[1] and ax.figure is fig
    assert len(fig.axes) == 2 and not axes[0].images
    assert "S" not in {t.get_text() for t in ax.texts}


def test_heatmap_log_scale_leaves_zeros_white(grid, exact, tmp_path):
    state, _ = ci.marginals(grid, exact)
    ax = ci.plot.heatmap(grid, state[2], log=True)
    assert isinstance(ax.images[0].norm, colors.LogNorm)
    unreachable = np.flatnonzero((state[2] == 0) & ~grid.walls.ravel())
    assert unreachable.size > 0
    row, col = grid.coords(unreachable[0])
    assert_allclose(pixel_at(ax, col, row), (1.0, 1.0, 1.0), atol=0.02)
    assert_renders(ax.figure, tmp_path)


def test_heatmap_without_grid_is_bars(chain, tmp_path):
    values = np.linspace(-1.0, 2.0, chain.n_states)
    ax = ci.plot.heatmap(chain, values, label="V")
    assert len(ax.patches) == chain.n_states
    assert_allclose([p.get_height() for p in ax.patches], values)
    assert ax.get_ylabel() == "V"
    assert_renders(ax.figure, tmp_path, min_bytes=3_000)


def test_state_bars_on_a_grid_and_given_ax(grid, exact):
    fig, ax = plt.subplots()
    assert ci.plot.state_bars(grid, exact.V[0], ax=ax, log=False) is ax
    assert len(ax.patches) == grid.n_states


def test_heatmap_ignores_states_beyond_the_cells():
    """A GridMDP may hold extra non-cell states (an 'episode over' state): not drawn."""
    P = np.zeros((3, 1, 3))
    P[:, 0, 2] = 1.0
    mdp = ci.envs.GridMDP(P, r=np.zeros(3), p0=[1, 0, 0], horizon=2, shape=(1, 2),
                          action_deltas=[[0, 0]])
    ax = ci.plot.heatmap(mdp, [0.0, 1.0, 100.0])
    assert ax.images[0].get_array().shape == (1, 2)
    assert ax.images[0].norm.vmax == 1.0  # the colour scale ignores the extra state


def test_heatmap_rejects_wrong_shape(grid):
    with pytest.raises(ValueError, match=r"values has shape \(5,\), expected \(S,\) = \(15,\)"):
        ci.plot.heatmap(grid, np.zeros(5))


def test_heatmap_log_needs_a_positive_value(grid):
    with pytest.raises(ValueError, match="log=True needs positive values"):
        ci.plot.heatmap(grid, -np.ones(grid.n_states), log=True)


# -- message intersection --------------------------------------------------------------

def test_message_rows_are_the_core_quantities(grid, exact):
    alpha, log_beta, posterior = message_rows(grid, exact)
    assert_allclose(alpha, ci.forward(grid, exact), rtol=0, atol=0)
    assert_allclose(posterior, ci.marginals(grid, exact)[0], rtol=0, atol=0)
    # log β_t scaled as Solution.backward_messages scales β_t: its largest entry is 0.
    _, beta_s, _ = exact.backward_messages()
    assert_allclose(np.exp(log_beta), beta_s, rtol=1e-12, atol=1e-300)
    assert_allclose(log_beta.max(axis=1), 0.0, atol=1e-12)
    assert_allclose(message_rows(grid, exact, beta_scale="linear")[1], beta_s, rtol=0, atol=0)


@pytest.mark.parametrize("mode", ["soft", "hard"])
def test_soft_or_hard_message_rows_are_the_occupancy_and_scaled_values(grid, mode):
    # message_rows: "for soft and hard solutions the first and last rows are both the
    # policy's occupancy and the middle row is V_t / temperature of that mode".
    sol = ci.solve(grid, mode=mode, temperature=0.5)
    alpha, log_beta, posterior = message_rows(grid, sol)
    occupancy = ci.occupancy(grid, sol.policy)
    assert_allclose(alpha, occupancy, rtol=0, atol=1e-14)
    assert_allclose(posterior, occupancy, rtol=0, atol=1e-14)
    assert_allclose(log_beta, (sol.V - sol.V.max(axis=1, keepdims=True)) / 0.5, atol=1e-12)


def test_message_intersection_panels_labels_and_scales(grid, exact, tmp_path):
    fig = ci.plot.message_intersection(grid, exact, times=[0, 3, 7])
    assert isinstance(fig, Figure)
    panels, colorbars = fig.axes[:9], fig.axes[9:]
    assert len(colorbars) == 3
    assert [ax.get_title() for ax in panels[:3]] == ["t = 0", "t = 3", "t = 7"]
    assert [panels[3 * i].get_ylabel() for i in range(3)] == list(ROW_LABELS)
    for i in range(3):  # one colour scale per row
        row = panels[3 * i:3 * i + 3]
        norms = {(ax.images[0].norm.vmin, ax.images[0].norm.vmax) for ax in row}
        assert len(norms) == 1
    # Every colour bar names its quantity and its scale.
    labels = [bar.get_ylabel() for bar in colorbars]
    assert r"$\alpha_t(s)" in labels[0] and "sqrt scale" in labels[0]
    assert r"\log\beta_t" in labels[1] and "temperature" in labels[1] and "nats" in labels[1]
    assert r"$p(s_t \mid O_{0:T-1})$" in labels[2] and "sqrt scale" in labels[2]
    assert "mode='exact'" in fig._suptitle.get_text()
    assert "temperature 1" in fig._suptitle.get_text() and "α" not in fig._suptitle.get_text()
    assert_renders(fig, tmp_path, min_bytes=20_000)


def test_the_backward_row_is_visible_away_from_the_goal_on_its_default_log_scale():
    """Issue 19: on a linear scale β_t (∝ e^{V_t/α}) was white everywhere but at the goal."""
    world = build_world()
    sol = ci.solve(world, mode="exact", temperature=0.2)
    open_cells = ~(world.walls | world.pits | world.goals).ravel()

    def coloured_share(fig):       # open cells at t = 0 whose colour is visibly not white
        ax = fig.axes[1]           # times=[0]: α, β and posterior panels are axes 0, 1, 2
        values = np.ma.filled(ax.images[0].get_array().astype(float), np.nan).ravel()
        shade = ax.images[0].norm(values)
        return float(np.mean(np.asarray(shade)[open_cells] > 0.1))

    log_share = coloured_share(ci.plot.message_intersection(world, sol, times=[0]))
    linear_share = coloured_share(ci.plot.message_intersection(world, sol, times=[0],
                                                               beta_scale="linear"))
    assert linear_share < 0.1 and log_share > 0.9


def test_message_intersection_default_times_and_given_fig(grid, exact):
    fig = plt.figure()
    assert ci.plot.message_intersection(grid, exact, fig=fig) is fig
    titles = [ax.get_title() for ax in fig.axes[:5]]
    assert titles == [f"t = {t}" for t in (0, 2, 4, 5, 7)]


def test_message_intersection_names_a_non_exact_mode(grid, soft):
    fig = ci.plot.message_intersection(grid, soft, times=2, scale="log")
    assert "mode='soft'" in fig._suptitle.get_text()
    assert "not exact inference" in fig._suptitle.get_text()
    assert isinstance(fig.axes[0].images[0].norm, colors.LogNorm)


def test_message_intersection_without_grid(chain, tmp_path):
    fig = ci.plot.message_intersection(chain, ci.solve(chain, mode="exact"), times=[0, 4])
    assert all(len(ax.patches) == chain.n_states for ax in fig.axes[:6])
    assert_renders(fig, tmp_path)


def test_message_intersection_rejects_bad_input(grid, exact):
    with pytest.raises(ValueError, match=r"times contains 8, expected ints 0 <= t < T = 8"):
        ci.plot.message_intersection(grid, exact, times=[0, 8])
    with pytest.raises(ValueError, match="times is empty"):
        ci.plot.message_intersection(grid, exact, times=[])
    with pytest.raises(ValueError, match=r"scale is 'cubic', expected one of"):
        ci.plot.message_intersection(grid, exact, scale="cubic")
    infinite = grid.replace(horizon=None, gamma=0.9)
    with pytest.raises(ValueError, match="needs a finite-horizon solution"):
        ci.plot.message_intersection(infinite, ci.solve(infinite, mode="soft"))


# -- policy arrows ---------------------------------------------------------------------

def test_policy_arrows_lengths_follow_probabilities(grid, tmp_path):
    S, A = grid.n_states, grid.n_actions
    policy_t = np.zeros((S, A))
    policy_t[:, 1] = 0.75  # right
    policy_t[:, 4] = 0.25  # stay
    ax = ci.plot.policy_arrows(grid, policy_t, scale=0.4)
    quiver = next(c for c in ax.collections if isinstance(c, Quiver))
    n_cells = (~grid.walls).sum()
    assert len(quiver.U) == n_cells
    assert_allclose(quiver.U, 0.4 * 0.75)
    assert_allclose(quiver.V, 0.0)
    dots = next(c for c in ax.collections if isinstance(c, EllipseCollection))
    assert len(dots.get_offsets()) == n_cells
    assert_renders(ax.figure, tmp_path, min_bytes=3_000)


def test_policy_arrows_background_and_given_ax(grid, exact):
    fig, ax = plt.subplots()
    assert ci.plot.policy_arrows(grid, exact.policy[0], ax=ax, background=exact.V[0]) is ax
    assert_allclose(ax.images[0].get_array()[0, 0], exact.V[0, 0])
    assert len(fig.axes) == 2  # with the background's colour bar


def test_policy_arrows_without_grid_is_a_matrix(chain):
    policy_t = np.full((chain.n_states, chain.n_actions), 0.5)
    ax = ci.plot.policy_arrows(chain, policy_t)
    assert ax.images[0].get_array().shape == (chain.n_states, chain.n_actions)


def test_policy_arrows_rejects_bad_input(grid):
    expected = r"policy_t has shape \(15, 4\), expected \(S, A\) = \(15, 5\)"
    with pytest.raises(ValueError, match=expected):
        ci.plot.policy_arrows(grid, np.zeros((15, 4)))
    P = np.zeros((2, 3, 2))
    P[:, :, 0] = 1.0
    plain = ci.TabularMDP(P, r=np.zeros(2), p0=[1, 0], horizon=2)
    plain.shape = (1, 2)  # a grid without action_deltas and with 3 actions
    with pytest.raises(ValueError, match="policy arrows need mdp.action_deltas"):
        ci.plot.policy_arrows(plain, np.full((2, 3), 1 / 3))


def test_policy_row_of_panels(grid, exact, tmp_path):
    fig = ci.plot.policy(grid, exact, times=[0, 4])
    assert isinstance(fig, Figure)
    assert [ax.get_title() for ax in fig.axes[:2]] == ["t = 0", "t = 4"]
    assert fig.axes[0].images[0].norm.vmax == fig.axes[1].images[0].norm.vmax
    assert_renders(fig, tmp_path)
    marginal, _ = ci.marginals(grid, exact)
    fig = ci.plot.policy(grid, exact, times=[1], background=marginal)
    assert_allclose(fig.axes[0].images[0].get_array()[0, 0], marginal[1, 0])
    fig = ci.plot.policy(grid, exact, times=[1], background=None)
    assert len(fig.axes) == 1


def test_policy_of_a_stationary_solution(grid):
    infinite = grid.replace(horizon=None, gamma=0.9)
    fig = ci.plot.policy(infinite, ci.solve(infinite, mode="soft"))
    assert [ax.get_title() for ax in fig.axes[:1]] == ["stationary"]


def test_policy_rejects_bad_background(grid, exact):
    with pytest.raises(ValueError, match="background is 'Q', expected 'V'"):
        ci.plot.policy(grid, exact, background="Q")
    expected = r"background has shape \(3, 15\), expected \(T, S\) = \(8, 15\)"
    with pytest.raises(ValueError, match=expected):
        ci.plot.policy(grid, exact, background=np.zeros((3, 15)))


# -- trajectories ----------------------------------------------------------------------

def test_trajectories_overlay(grid, exact, tmp_path):
    demos = ci.sample(grid, exact.policy, n=30, seed=0)
    ax = ci.plot.trajectories(grid, demos, n_max=12)
    assert isinstance(ax, Axes)
    assert len(ax.lines) == 2 * 12  # a path and a start dot each
    assert ax.get_title() == "12 of 30 sampled trajectories"
    start_col, start_row = ax.lines[1].get_data()
    assert abs(start_col[0] - 0) <= 0.15 + 0.05 and abs(start_row[0] - 0) <= 0.2
    assert_renders(ax.figure, tmp_path)


def test_trajectories_from_an_array_into_given_ax(chain):
    fig, ax = plt.subplots()
    states = np.array([[0, 1, 2, 3], [5, 5, 4, 0]])
    assert ci.plot.trajectories(chain, states, ax=ax, jitter=0.0) is ax
    assert_allclose(ax.lines[0].get_ydata(), states[0])
    assert ax.get_xlabel() == "time t"


def test_trajectories_opacity_sets_the_line_alpha(chain):
    """``opacity`` (not ``alpha``, which is the temperature elsewhere) is the lines' alpha."""
    ax = ci.plot.trajectories(chain, np.array([[0, 1, 2]]), opacity=0.3)
    assert ax.lines[0].get_alpha() == 0.3
    with pytest.raises(TypeError, match="alpha"):
        ci.plot.trajectories(chain, np.array([[0, 1, 2]]), alpha=0.3)


def test_trajectories_reject_bad_states(grid):
    with pytest.raises(ValueError, match=r"contains 20, expected states in 0..S-1 = 0..14"):
        ci.plot.trajectories(grid, np.array([[0, 1, 20]]))
    with pytest.raises(TypeError, match=r"demos must be Trajectories or an \(N, T\) int array"):
        ci.plot.trajectories(grid, np.array([[0.0, 1.0]]))
    with pytest.raises(ValueError, match=r"expected a non-empty \(N, T\) int array"):
        ci.plot.trajectories(grid, np.zeros((1, 0), dtype=int))


# -- animation ---------------------------------------------------------------------------

def test_animate_marginals_writes_one_frame_per_step(grid, exact, tmp_path):
    state, _ = ci.marginals(grid, exact)
    path = ci.plot.animate_marginals(grid, state, tmp_path / "marginals.gif", fps=5)
    assert path == tmp_path / "marginals.gif"
    with Image.open(path) as gif:
        assert gif.n_frames == T
    assert not plt.get_fignums()  # the animation figure is closed


def test_animate_marginals_without_grid(chain, tmp_path):
    state, _ = ci.marginals(chain, ci.solve(chain, mode="soft"))
    path = ci.plot.animate_marginals(chain, state, str(tmp_path / "m.gif"), log=True)
    with Image.open(path) as gif:
        assert gif.n_frames == T


def test_animate_marginals_rejects_bad_input(grid, tmp_path):
    with pytest.raises(ValueError, match=r"marginal_states has shape \(15,\), expected \(T, S\)"):
        ci.plot.animate_marginals(grid, np.zeros(15), tmp_path / "m.gif")
    with pytest.raises(ValueError, match=r"expected a file name ending in .gif"):
        ci.plot.animate_marginals(grid, np.zeros((2, 15)), tmp_path / "m.png")


# -- exact vs soft -------------------------------------------------------------------------

def test_compare_modes_shows_the_optimism(grid, exact, soft, tmp_path):
    fig = ci.plot.compare_modes(grid, exact, soft, t=1)
    assert isinstance(fig, Figure)
    left, right, difference = fig.axes[:3]
    assert len(fig.axes) == 5  # three maps, a shared colour bar, the difference's
    assert left.images[0].norm.vmax == right.images[0].norm.vmax
    cells = ~grid.walls
    diff = difference.images[0].get_array()
    assert_allclose(diff[cells], (exact.V[1] - soft.V[1]).reshape(grid.shape)[cells])
    norm = difference.images[0].norm
    assert norm.vmin == -norm.vmax  # centred on zero
    assert "exact" in left.get_title() and "soft" in right.get_title()
    assert_renders(fig, tmp_path)


def test_compare_modes_rejects_bad_time(grid, exact, soft):
    with pytest.raises(ValueError, match=r"t is 9, expected an int 0 <= t < T = 8"):
        ci.plot.compare_modes(grid, exact, soft, t=9)


def test_compare_modes_of_stationary_solutions(grid):
    infinite = grid.replace(horizon=None, gamma=0.9)
    soft, hard = (ci.solve(infinite, mode=mode) for mode in ("soft", "hard"))
    fig = ci.plot.compare_modes(infinite, soft, hard)
    assert fig.axes[0].get_title() == "$V(s)$, mode='soft'"
    assert " at t = " not in fig._suptitle.get_text()


def test_values_vs_temperature(chain):
    ax = ci.plot.values_vs_temperature(chain, [0.1, 1.0, 10.0])
    assert [line.get_label() for line in ax.lines] == ["exact", "soft", "hard"]
    hard = ci.solve(chain, mode="hard").V[0] @ chain.p0
    assert_allclose(ax.lines[2].get_ydata(), hard)
    with pytest.raises(ValueError, match=r"temperatures\[0\] must be a positive finite number"):
        ci.plot.values_vs_temperature(chain, [0.0, 1.0])
    with pytest.raises(ValueError, match="temperatures must be a non-empty"):
        ci.plot.values_vs_temperature(chain, [])


# -- learning curves -------------------------------------------------------------------------

def test_curves_from_dict_of_lists(tmp_path):
    history = {"objective": [-3.0, -2.0, -1.5], "grad_norm": [1.0, 0.3, 0.1],
               "theta": [np.zeros(2)] * 3}
    fig = ci.plot.curves(history, logy=["grad_norm"])
    assert isinstance(fig, Figure)
    assert [ax.get_ylabel() for ax in fig.axes] == ["objective", "grad_norm"]  # theta skipped
    assert fig.axes[1].get_yscale() == "log" and fig.axes[0].get_yscale() == "linear"
    assert_renders(fig, tmp_path)


def test_curves_from_list_of_dicts_on_one_ax():
    history = [{"objective": -3.0, "grad_norm": 1.0}, {"objective": -2.0}]
    fig, ax = plt.subplots()
    assert ci.plot.curves(history, ax=ax) is fig
    assert len(ax.lines) == 2 and ax.get_legend() is not None
    assert np.isnan(ax.lines[1].get_ydata()[1])


def test_curves_from_an_object_with_history_into_given_axes():
    class Result:
        history = {"objective": [1.0, 2.0]}

    fig, axes = plt.subplots(1, 1, squeeze=False)
    assert ci.plot.curves(Result(), keys="objective", ax=list(axes[0])) is fig
    assert_allclose(axes[0, 0].lines[0].get_ydata(), [1.0, 2.0])


def test_curves_reject_bad_input():
    with pytest.raises(ValueError, match=r"no numeric key 'loss'; it has \['objective'\]"):
        ci.plot.curves({"objective": [1.0]}, keys=["loss"])
    with pytest.raises(ValueError, match=r"logy needs positive values, but 'objective' has min"):
        ci.plot.curves({"objective": [-1.0, 2.0]}, logy=True)
    with pytest.raises(ValueError, match="history has no numeric entries"):
        ci.plot.curves({})
    with pytest.raises(ValueError, match="ax holds 1 Axes for 2 keys"):
        ci.plot.curves({"a": [1.0], "b": [2.0]}, ax=[plt.subplots()[1]])
    with pytest.raises(TypeError, match="dict of lists or a list of dicts"):
        ci.plot.curves([1.0, 2.0])


# -- every picture shows the core's numbers (issue 18), at any temperature -----------------

TEMPERATURES = [1.0, 1e-2, 1e-3]


def drawn(ax, mdp):
    """The per-state values a panel shows, read back from its artists: (S,), NaN if not drawn."""
    values = np.full(mdp.n_states, np.nan)
    if ax.images:                                   # a grid: cells (walls masked)
        cells = np.ma.filled(ax.images[0].get_array().astype(float), np.nan).ravel()
        values[:cells.size] = cells
    else:                                           # bars over states
        values[:] = [patch.get_height() for patch in ax.patches]
    return values


def assert_shows(ax, mdp, expected, rtol=1e-12):
    shown = drawn(ax, mdp)
    where = np.isfinite(shown)
    assert where.sum() >= (~getattr(mdp, "walls", np.zeros(1, bool))).sum()
    assert_allclose(shown[where], np.asarray(expected)[where], rtol=rtol, atol=1e-300)


def two_routes():
    """Issue 18: from 0, action 0 reaches absorbing 1 (r = 0), action 1 absorbing 2 (r = 10)."""
    P = np.zeros((3, 2, 3))
    P[0, 0, 1] = P[0, 1, 2] = 1.0
    P[1, :, 1] = P[2, :, 2] = 1.0
    r = np.zeros((3, 2))
    r[0, 1] = -1.0
    r[2, :] = 10.0
    return ci.TabularMDP(P, r, p0=[1.0, 0.0, 0.0], horizon=3)


@pytest.mark.parametrize("temperature", TEMPERATURES)
def test_message_intersection_posterior_is_the_cores_at_low_temperature(temperature):
    # The picture used to form α_t β_t from the linear forward message: at 1e-3 its
    # posterior at t = 1 sat in state 1 (α_1(2) = e^-1000 rounds to 0), where the
    # agent never is; the posterior (ci.marginals, and enumeration) is in state 2.
    mdp = two_routes()
    sol = ci.solve(mdp, mode="exact", temperature=temperature)
    fig = ci.plot.message_intersection(mdp, sol, times=[1])
    posterior = ci.marginals(mdp, sol)[0]
    assert_shows(fig.axes[2], mdp, posterior[1])
    assert_allclose(drawn(fig.axes[2], mdp), [0.0, 0.0, 1.0], atol=1e-8)


@pytest.mark.parametrize("temperature", TEMPERATURES)
@pytest.mark.parametrize("mode", ["exact", "soft"])
def test_message_intersection_rows_are_the_cores(grid, temperature, mode):
    sol = ci.solve(grid, mode=mode, temperature=temperature)
    times = [0, 4, 7]
    fig = ci.plot.message_intersection(grid, sol, times=times)
    log_beta = sol.V / temperature - sol.backward_messages()[2][:, None]
    forward, posterior = ci.forward(grid, sol), ci.marginals(grid, sol)[0]
    for j, t in enumerate(times):
        assert_shows(fig.axes[j], grid, forward[t])
        assert_shows(fig.axes[len(times) + j], grid, log_beta[t])
        assert_shows(fig.axes[2 * len(times) + j], grid, posterior[t])


@pytest.mark.parametrize("temperature", TEMPERATURES)
def test_policy_and_value_pictures_show_the_cores(grid, temperature):
    sol = ci.solve(grid, mode="exact", temperature=temperature)
    fig = ci.plot.policy(grid, sol, times=[2], scale=0.4)
    ax = fig.axes[0]
    assert_shows(ax, grid, sol.V[2])
    quiver = next(c for c in ax.collections if isinstance(c, Quiver))
    moves = grid.action_deltas.any(axis=1)
    shown = ~grid.walls.ravel()[:, None] & (sol.policy[2] > 0.01) & moves[None]
    lengths = np.hypot(quiver.U, quiver.V)
    assert_allclose(np.sort(lengths), np.sort(0.4 * sol.policy[2][shown]), rtol=1e-12)
    soft = ci.solve(grid, mode="soft", temperature=temperature)
    fig = ci.plot.compare_modes(grid, sol, soft, t=3)
    assert_shows(fig.axes[0], grid, sol.V[3])
    assert_shows(fig.axes[1], grid, soft.V[3])
    assert_shows(fig.axes[2], grid, sol.V[3] - soft.V[3])


def test_values_vs_temperature_are_the_cores(chain):
    ax = ci.plot.values_vs_temperature(chain, TEMPERATURES)
    for line, mode in zip(ax.lines, ("exact", "soft", "hard")):
        expected = [chain.p0 @ ci.solve(chain, mode=mode, temperature=a).V[0]
                    for a in TEMPERATURES]
        assert_allclose(line.get_ydata(), expected, rtol=1e-12)
    assert ax.get_xlabel() == "temperature"


def test_no_plot_names_the_temperature_alpha(grid, exact, soft):
    """α is the forward message in these pictures; the temperature is called temperature."""
    texts = [ci.plot.message_intersection(grid, soft, times=[0])._suptitle.get_text(),
             ci.plot.policy(grid, exact, times=[0])._suptitle.get_text(),
             ci.plot.compare_modes(grid, exact, soft)._suptitle.get_text()]
    for text in texts:
        assert "temperature 1" in text and "α" not in text


# -- letters and labels --------------------------------------------------------------------

def test_a_start_spread_over_most_cells_is_not_lettered():
    """gridworld's default start is every cell but the goal: lettering them all S hid the map."""
    spread = ci.envs.gridworld((3, 4), goals=[(0, 3)], horizon=5)
    assert (spread.p0 > 0).sum() == 11
    ax = ci.plot.heatmap(spread, np.arange(12.0))
    assert [t.get_text() for t in ax.texts] == ["G"]
    one = ci.envs.gridworld((3, 4), goals=[(0, 3)], start=(2, 0), horizon=5)
    ax = ci.plot.heatmap(one, np.arange(12.0))
    assert sorted(t.get_text() for t in ax.texts) == ["G", "S"]


def test_error_map_labels_a_regret_as_a_regret():
    grid = ci.envs.gridworld((2, 3), goals=[(0, 2)], start=(1, 0), horizon=None, gamma=0.9)
    oracle = ci.bridge.Oracle(grid, temperature=0.0)
    uniform = np.full((grid.n_states, grid.n_actions), 1 / grid.n_actions)
    report = oracle.compare_policy(uniform)
    ax = ci.plot.error_map(grid, report)
    assert ax.figure.axes[-1].get_ylabel() == ci.plot.errors.REGRET_LABEL
    assert_shows(ax, grid, report.state_regret)
    report = oracle.compare_q(oracle.Q + 0.1)
    ax = ci.plot.error_map(grid, report)
    assert ax.figure.axes[-1].get_ylabel() == ci.plot.errors.ERROR_LABEL
    assert_shows(ax, grid, report.state_error)
    ax = ci.plot.error_map(grid, report.state_error, label="max_a |Q − Q*|")
    assert ax.figure.axes[-1].get_ylabel() == "max_a |Q − Q*|"
