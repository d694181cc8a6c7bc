"""The corrected statements of issue 10 in the docstrings, each stated as a test.

- gym_adapters: hard values are expected returns; soft/exact values add α log A per
  step spent in the absorbing terminated state.
- plot.values_vs_temperature: as α → 0 soft → hard, exact → the optimistic recursion.
- irl.objective: with a tabular reward, whether the finite-horizon soft objective has a
  finite maximiser depends on the demos.
- bridge._common.linear_decay: a finite anneal that reaches 0 at the end of the run.

And those of issue 19 (ci.irl docstrings, README's IRL section):

- with horizon=None the soft objective is the demos' discounted causal log-likelihood;
  ρ̂ = p̂0 − γ^L P̂_L + transition luck (zero for deterministic dynamics and in
  expectation, shrinking as 1/√N); it is not the long-horizon limit of the MCE dual on
  stochastic dynamics (values, gradients, maximisers); mdp.p0 only refuses starts;
  r ↦ (π, V) is inverted by r = log π + V − γPV; an action the demos never show is a
  supremum, not a maximum; for a finite horizon the soft objective and the discounted
  log-likelihood differ by Σ_t γ^{t+1} (E[V_{t+1}] − V_{t+1}(s_{t+1}));
- apprenticeship_projection stops on a zero step only when μ_E is not attainable;
- behaviour_cloning maximises the demos' log-likelihood over stationary policies.
"""
import numpy as np
import pytest
from numpy.testing import assert_allclose

import ctrlinf as ci
from ctrlinf.bridge._common import linear_decay


def optimistic_values(mdp):
    """``V_t(s) = max_a [r + max_{s': P > 0} V_{t+1}(s')]`` by brute force, shape (T, S)."""
    P, r = mdp.transition_tensor(), mdp.r
    V = np.zeros((mdp.horizon + 1, mdp.n_states))
    for t in range(mdp.horizon - 1, -1, -1):
        V[t] = (r + np.where(P > 0, V[t + 1][None, None, :], -np.inf).max(axis=2)).max(axis=1)
    return V[:-1]


@pytest.mark.parametrize("temperature", [0.5, 2.0])
def test_gym_terminal_state_earns_alpha_log_A_per_step_in_soft_and_exact_mode(temperature):
    gym = pytest.importorskip("gymnasium")
    T = 12
    mdp = ci.envs.from_gymnasium(gym.make("FrozenLake-v1"), horizon=T)
    dead, A = mdp.n_states - 1, mdp.n_actions
    bonus = (T - np.arange(T)) * temperature * np.log(A)
    for mode in ("soft", "exact"):
        V = ci.solve(mdp, mode=mode, temperature=temperature).V
        assert_allclose(V[:, dead], bonus, rtol=1e-12)
    assert np.all(ci.solve(mdp, mode="hard").V[:, dead] == 0.0)
    # One allowed action in the terminated state removes the bonus.
    prior = np.ones((mdp.n_states, A))
    prior[dead, 1:] = 0.0
    V = ci.solve(mdp, mode="soft", temperature=temperature, action_prior=prior).V
    assert_allclose(V[:, dead], 0.0, atol=1e-12)


def test_cold_exact_values_tend_to_the_optimistic_recursion_not_to_hard_values():
    mdp = ci.envs.random_mdp(6, 3, branching=2, seed=1, horizon=5)
    alpha = 1e-3
    hard = ci.solve(mdp, mode="hard").V[0]
    optimistic = optimistic_values(mdp)[0]
    soft = ci.solve(mdp, mode="soft", temperature=alpha).V[0]
    exact = ci.solve(mdp, mode="exact", temperature=alpha).V[0]
    T, A, p_min = mdp.horizon, mdp.n_actions, mdp.P.data.min()
    assert np.abs(soft - hard).max() <= alpha * T * np.log(A)
    assert np.abs(exact - optimistic).max() <= alpha * T * (np.log(A) - np.log(p_min))
    assert np.abs(exact - hard).max() > 0.1                 # stochastic: not value iteration


def two_state_mdp():
    """From s0, action 0 stays or moves to s1 with probability 1/2 each; action 1 moves.

    Horizon 2 from s0, so the fraction f of episodes in s0 at t = 1 can be anything in
    [0, 1/2] (choose action 0 with probability 2f) and nothing above.
    """
    P = np.zeros((2, 2, 2))
    P[0, 0] = [0.5, 0.5]
    P[0, 1] = [0.0, 1.0]
    P[1, :, 1] = 1.0
    return ci.TabularMDP(P, np.zeros((2, 2)), p0=[1.0, 0.0], horizon=2)


def demos_with_fraction_in_s0(stays, n):
    states = np.array([[0, 0]] * stays + [[0, 1]] * (n - stays))
    return ci.Trajectories(states, np.zeros_like(states))


def test_finite_horizon_soft_maximiser_with_tabular_features_depends_on_the_data():
    mdp = two_state_mdp()
    features = np.eye(2)                                      # one weight per state
    # f = 1/4 is matched by a policy: the soft objective has a finite maximiser.
    matched = demos_with_fraction_in_s0(1, 4)
    res = ci.irl.fit(mdp, features, matched, mode="soft", progress=False)
    assert res.converged and np.abs(res.theta).max() < 10
    _, grad = ci.irl.objective(mdp, features, matched, res.theta, mode="soft")
    assert np.abs(grad).max() < 1e-5
    # f = 3/4 is matched by no policy: the objective keeps rising along θ = c (1, -1).
    unmatched = demos_with_fraction_in_s0(3, 4)
    values = [ci.irl.objective(mdp, features, unmatched, c * np.array([1.0, -1.0]),
                               mode="soft")[0] for c in (1, 5, 25, 125)]
    assert np.all(np.diff(values) > 0)
    grad = ci.irl.objective(mdp, features, unmatched, 125 * np.array([1.0, -1.0]),
                            mode="soft")[1]
    assert grad @ np.array([1.0, -1.0]) > 0.1               # no stationary point out there


def test_linear_decay_is_a_finite_anneal_to_zero():
    rate = linear_decay(0.5)
    assert rate(0.0) == 0.5 and rate(0.5) == 0.25 and rate(1.0) == 0.0
    assert rate(1.5) == 0.0                                  # never negative past the end


# -- issue 19: infinite-horizon soft IRL is the demos' discounted causal log-likelihood ----
#
# ctrlinf.irl.objectives, fitting.fit and README's IRL section say: with horizon=None the
# objective Σ D_E r − ρ̂·V is the demos' discounted causal log-likelihood for any dynamics,
# ρ̂ = p̂0 − γ^L P̂_L + the demos' transition luck, which is not the limit of the finite-horizon
# MCE dual on stochastic dynamics; p0 only refuses impossible starts; r ↦ (π, V) is a
# diffeomorphism, so with one indicator per (s, a) the maximiser is discounted cloning.

SEEDS = range(5)


def transition_luck(mdp, demos):
    """(p̂0, P̂_L, luck) of length-L demos, by numpy from the trajectories themselves."""
    P, gamma = mdp.transition_tensor(), mdp.gamma
    S, (N, L) = mdp.n_states, demos.states.shape
    p0_hat = np.bincount(demos.states[:, 0], minlength=S) / N
    P_L = P[demos.states[:, -1], demos.actions[:, -1]].mean(axis=0)
    luck = np.zeros(S)
    for t in range(1, L):
        seen = np.eye(S)[demos.states[:, t]]
        expected = P[demos.states[:, t - 1], demos.actions[:, t - 1]]
        luck += gamma**t * (seen - expected).mean(axis=0)
    return p0_hat, P_L, luck


def start_measure(mdp, demos):
    from ctrlinf.irl.objectives import demo_start_measure
    return demo_start_measure(mdp, ci.irl.expert_visitation(mdp, demos))


@pytest.mark.parametrize("seed", SEEDS)
def test_rho_hat_is_the_start_minus_the_first_unseen_step_plus_the_transition_luck(seed):
    mdp = ci.envs.random_mdp(8, 3, branching=2, seed=seed, horizon=None, gamma=0.9)
    demos = ci.sample(mdp, ci.solve(mdp).policy, 200, seed=seed, length=30)
    rho = start_measure(mdp, demos)
    p0_hat, P_L, luck = transition_luck(mdp, demos)
    assert_allclose(rho, p0_hat - mdp.gamma**30 * P_L + luck, atol=1e-12)
    assert_allclose(rho.sum(), 1 - mdp.gamma**30, rtol=1e-12)
    assert np.abs(luck).sum() > 0.05 * np.abs(rho).sum()          # not small on data
    # Deterministic dynamics: no luck at all.
    det = ci.envs.random_mdp(8, 3, branching=1, seed=seed, horizon=None, gamma=0.9)
    demos = ci.sample(det, ci.solve(det).policy, 200, seed=seed, length=30)
    assert np.abs(transition_luck(det, demos)[2]).max() < 1e-14


def test_the_transition_luck_is_zero_in_expectation_and_shrinks_as_one_over_root_n():
    mdp = ci.envs.random_mdp(8, 3, branching=2, seed=0, horizon=None, gamma=0.9)
    pi = ci.solve(mdp).policy

    def mean_luck(n):
        return np.mean([np.abs(transition_luck(mdp, ci.sample(mdp, pi, n, seed=k, length=30))[2])
                        .sum() for k in range(4)])

    ratio = mean_luck(100) / mean_luck(10_000)
    assert 6 < ratio < 16                                            # √100 = 10


@pytest.mark.parametrize("seed", SEEDS)
def test_infinite_horizon_soft_irl_is_not_the_long_horizon_limit_of_the_mce_dual(seed):
    L = 200                                                          # γ^L ≈ 7e-10
    phi = np.random.default_rng(seed).normal(size=(8, 3, 4))
    theta = np.random.default_rng(seed + 1).normal(size=4)
    for branching in (2, 1):
        mdp = ci.envs.random_mdp(8, 3, branching=branching, seed=seed, horizon=None, gamma=0.9)
        demos = ci.sample(mdp, ci.solve(mdp).policy, 200, seed=seed, length=L)
        p0_hat, _, luck = transition_luck(mdp, demos)
        endless, _ = ci.irl.objective(mdp, phi, demos, theta)
        dual, dual_grad = ci.irl.objective(mdp.replace(p0=p0_hat, horizon=L), phi, demos, theta)
        V = ci.solve(mdp.replace(r=phi @ theta), tol=1e-13).V
        # The finite-horizon dual tends to θ·μ_E − p̂0·V, the endless one is θ·μ_E − ρ̂·V.
        assert_allclose(dual - endless, luck @ V, atol=1e-6)
        if branching == 1:
            assert abs(dual - endless) < 1e-6
        else:
            assert abs(dual - endless) > 1e-3
            endless_grad = ci.irl.objective(mdp, phi, demos, theta)[1]
            assert np.abs(dual_grad - endless_grad).max() > 1e-3


@pytest.mark.parametrize("seed", SEEDS)
def test_their_maximisers_differ_on_stochastic_dynamics_only(seed):
    L = 80
    phi = np.random.default_rng(seed).normal(size=(6, 2, 3))
    gaps = {}
    for branching in (2, 1):
        mdp = ci.envs.random_mdp(6, 2, branching=branching, seed=seed, horizon=None, gamma=0.9)
        demos = ci.sample(mdp, ci.solve(mdp).policy, 200, seed=seed, length=L)
        endless = ci.irl.fit(mdp, phi, demos, progress=False).theta
        finite = mdp.replace(p0=ci.irl.start_distribution(demos, 6), horizon=L)
        dual = ci.irl.fit(finite, phi, demos, progress=False).theta
        gaps[branching] = np.abs(endless - dual).max()
    assert gaps[1] < 2e-3 and gaps[2] > 4e-3


def test_infinite_horizon_p0_only_refuses_starts_it_gives_probability_zero():
    mdp = ci.envs.random_mdp(6, 2, branching=2, seed=0, horizon=None, gamma=0.9)
    demos = ci.sample(mdp, ci.solve(mdp).policy, 50, seed=0, length=10)
    phi = np.random.default_rng(0).normal(size=(6, 2, 3))
    theta = np.array([0.5, -1.0, 0.3])
    value, grad = ci.irl.objective(mdp, phi, demos, theta)
    for p0 in (np.full(6, 1 / 6), ci.irl.start_distribution(demos, 6)):
        other = ci.irl.objective(mdp.replace(p0=p0), phi, demos, theta)
        assert_allclose(other[0], value, rtol=1e-12)
        assert_allclose(other[1], grad, rtol=1e-10, atol=1e-14)
    start = demos.states[0, 0]
    p0 = np.full(6, 1.0)
    p0[start] = 0.0
    with pytest.raises(ValueError, match=f"starts in state {start}, which has p0 = 0"):
        ci.irl.objective(mdp.replace(p0=p0 / p0.sum()), phi, demos, theta)


def test_reward_to_policy_and_value_is_inverted_by_log_pi_plus_v_minus_gamma_p_v():
    # The diffeomorphism behind "every stationary point is the global maximum": both
    # maps are smooth and undo each other.
    mdp = ci.envs.random_mdp(5, 3, branching=2, seed=0, horizon=None, gamma=0.9)
    P = mdp.transition_tensor()
    rng = np.random.default_rng(0)
    r = rng.normal(size=(5, 3))
    sol = ci.solve(mdp.replace(r=r), tol=1e-13)
    assert_allclose(np.log(sol.policy) + sol.V[:, None] - 0.9 * P @ sol.V, r, atol=1e-10)
    pi, V = rng.dirichlet(np.ones(3), size=5), rng.normal(size=5)
    back = ci.solve(mdp.replace(r=np.log(pi) + V[:, None] - 0.9 * P @ V), tol=1e-13)
    assert_allclose(back.policy, pi, atol=1e-10)
    assert_allclose(back.V, V, atol=1e-10)


def test_an_action_the_demos_never_show_is_a_supremum_not_a_maximum():
    # One state, three actions, demos show actions 0 and 1 only: the log-likelihood rises
    # towards Σ D_E log π_BC as r(s, 2) → −∞ and never reaches it.
    mdp = ci.TabularMDP(np.ones((1, 3, 1)), np.zeros((1, 3)), p0=[1.0], horizon=None,
                        gamma=0.5)
    demos = ci.Trajectories([[0, 0, 0]] * 2, [[0, 1, 0], [0, 0, 1]])
    D_E = ci.irl.expert_visitation(mdp, demos)
    clone = D_E / D_E.sum()
    bound = float((D_E[D_E > 0] * np.log(clone[D_E > 0])).sum())
    values = [ci.irl.reward_objective(mdp, [[np.log(clone[0, 0]), np.log(clone[0, 1]), -c]],
                                      demos)[0] for c in (1.0, 5.0, 25.0)]
    assert np.all(np.diff(values) > 0) and max(values) < bound
    assert bound - values[-1] < 1e-9


@pytest.mark.parametrize("seed", SEEDS)
def test_finite_horizon_soft_objective_and_discounted_log_likelihood_differ_by_the_luck(seed):
    # objectives' "Soft versus exact": with p0 = p̂0 the soft objective plus the demos' luck
    # Σ_t γ^{t+1} (E_{s'}[V_{t+1}(s')] − V_{t+1}(s_{t+1})) is (1/N) Σ_i Σ_t γ^t log π_t.
    T, gamma = 6, 0.9
    rng = np.random.default_rng(seed)
    phi, theta = rng.normal(size=(6, 3, 2)), rng.normal(size=2)
    for branching in (2, 1):
        mdp = ci.envs.random_mdp(6, 3, branching=branching, seed=seed, horizon=T, gamma=gamma)
        demos = ci.sample(mdp, ci.solve(mdp).policy, 100, seed=seed)
        learner = mdp.replace(p0=ci.irl.start_distribution(demos, 6))
        value, _ = ci.irl.objective(learner, phi, demos, theta)
        sol = ci.solve(learner.replace(r=phi @ theta))
        P, s, a = mdp.transition_tensor(), demos.states, demos.actions
        steps = np.arange(T)
        log_likelihood = (gamma**steps * (sol.Q[steps, s, a] - sol.V[steps, s])).sum(axis=1)
        luck = sum(gamma**(t + 1) * (P[s[:, t], a[:, t]] @ sol.V[t + 1]
                                     - sol.V[t + 1, s[:, t + 1]]) for t in range(T - 1))
        assert_allclose(log_likelihood.mean(), value + luck.mean(), rtol=0, atol=1e-10)
        if branching == 1:
            assert np.abs(luck).max() < 1e-12
        else:
            assert abs(luck.mean()) > 1e-3


# -- issue 19, item 8: the smaller statements of ci.irl -----------------------------------

def test_a_zero_projection_step_means_mu_e_is_not_attainable_and_mu_bar_is_its_nearest_point():
    # State-indicator features: every policy's counts sum to T. Lift μ_E off that plane
    # (orthogonal to it): w = μ_E − μ̄ then ties every action, the hard solution is the
    # uniform start again, the step is zero, and μ̄ is the projection of μ_E.
    mdp = ci.envs.random_mdp(4, 2, branching=2, seed=0, horizon=3)
    phi = np.eye(4)
    uniform = np.full((3, 4, 2), 0.5)
    mu_uniform = ci.irl.feature_expectations(mdp, uniform, phi)
    mu_E = mu_uniform + 0.25
    result = ci.irl.apprenticeship_projection(mdp, phi, mu_E, epsilon=1e-3)
    assert len(result.policies) == 1 and result.distances[-1] > 0.4
    assert_allclose(result.mu_bar, mu_uniform, atol=1e-12)
    # Nearest attainable point: every policy's μ lies on the far side of the plane
    # through μ̄ orthogonal to μ_E − μ̄.
    for seed in range(20):
        pi = np.random.default_rng(seed).dirichlet(np.ones(2), size=(3, 4))
        mu = ci.irl.feature_expectations(mdp, pi, phi)
        assert (mu_E - result.mu_bar) @ (mu - result.mu_bar) <= 1e-12


def test_behaviour_cloning_maximises_the_demos_log_likelihood_over_stationary_policies():
    mdp = ci.envs.random_mdp(5, 3, seed=1, horizon=6)
    demos = ci.sample(mdp, np.random.default_rng(1).dirichlet(np.ones(3), size=5), 40, seed=1)
    clone, visited = ci.irl.behaviour_cloning(demos, 5, 3)

    def log_likelihood(pi):
        with np.errstate(divide="ignore"):
            return np.log(pi[demos.states, demos.actions]).sum()

    best = log_likelihood(clone)
    rng = np.random.default_rng(2)
    for _ in range(50):
        other = 0.8 * clone + 0.2 * rng.dirichlet(np.ones(3), size=5)
        assert log_likelihood(other) < best
    assert np.all(clone[~visited] == 1 / 3)
