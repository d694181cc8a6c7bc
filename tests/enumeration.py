"""Ground truth by brute force: enumerate every trajectory of a tiny MDP.

Independent of the library's recursions: these functions only multiply the
factors of the graphical model along each trajectory and add them up.
"""
import itertools

import numpy as np


def all_trajectories(n_states, n_actions, horizon):
    """Every (states, actions) pair of length ``horizon``."""
    for states in itertools.product(range(n_states), repeat=horizon):
        for actions in itertools.product(range(n_actions), repeat=horizon):
            yield np.array(states), np.array(actions)


def dynamics_probability(P, p0, states, actions):
    """p0(s_0) Π_t P(s_{t+1} | s_t, a_t) (actions carry no probability here)."""
    prob = p0[states[0]]
    for t in range(len(states) - 1):
        prob *= P[states[t], actions[t], states[t + 1]]
    return prob


def optimality_weight(r, states, actions, temperature, upto=None):
    """Π_{t < upto} exp(r(s_t, a_t)/α), the likelihood of O_{0:upto-1}."""
    upto = len(states) if upto is None else upto
    return np.exp(sum(r[states[t], actions[t]] for t in range(upto)) / temperature)


def exact_messages(P, r, horizon, temperature=1.0, prior=None):
    """β_t(s, a) = p(O_{t:T-1} | s_t=s, a_t=a) by summing over every future."""
    S, A = r.shape
    prior = np.ones((S, A)) if prior is None else prior
    beta_sa = np.zeros((horizon, S, A))
    for t in range(horizon):
        steps = horizon - t
        for s, a in itertools.product(range(S), range(A)):
            total = 0.0
            for states, actions in all_trajectories(S, A, steps):
                if states[0] != s or actions[0] != a:
                    continue
                start = np.zeros(S)
                start[s] = 1.0
                weight = dynamics_probability(P, start, states, actions)
                weight *= optimality_weight(r, states, actions, temperature)
                weight *= np.prod([prior[states[k], actions[k]] for k in range(1, steps)])
                total += weight
            beta_sa[t, s, a] = total
    beta_s = (beta_sa * prior).sum(axis=2)
    return beta_sa, beta_s


def posterior(P, r, p0, horizon, temperature=1.0):
    """log p(O), p(s_t | O), p(s_t, a_t | O) and p(s_t | O_{0:t-1}) by enumeration."""
    S, A = r.shape
    evidence = 0.0
    state = np.zeros((horizon, S))
    state_action = np.zeros((horizon, S, A))
    forward = np.zeros((horizon, S))
    for states, actions in all_trajectories(S, A, horizon):
        dyn = dynamics_probability(P, p0, states, actions)
        weight = dyn * optimality_weight(r, states, actions, temperature)
        evidence += weight
        for t in range(horizon):
            state[t, states[t]] += weight
            state_action[t, states[t], actions[t]] += weight
            # p(s_t | O_{0:t-1}): only the optimality variables before t count;
            # the sum over the A^(T-t) later actions is a constant factor.
            forward[t, states[t]] += dyn * optimality_weight(r, states, actions, temperature, t)
    forward /= forward.sum(axis=1, keepdims=True)
    return np.log(evidence), state / evidence, state_action / evidence, forward


def policy_expectation(P, p0, policy, horizon, per_step):
    """E_q[Σ_t per_step(t, s_t, a_t)] with q(τ) = p0 Π π_t(a_t|s_t) P(s_{t+1}|s_t,a_t)."""
    S, A = policy.shape[1:]
    total = 0.0
    for states, actions in all_trajectories(S, A, horizon):
        q = dynamics_probability(P, p0, states, actions)
        q *= np.prod([policy[t, states[t], actions[t]] for t in range(horizon)])
        if q > 0:
            total += q * sum(per_step(t, states[t], actions[t]) for t in range(horizon))
    return total


def hard_backward_induction(P, r, horizon, gamma=1.0):
    """Plain finite-horizon value iteration with numpy: V_t = max_a r + γ P V_{t+1}."""
    S, A = r.shape
    V = np.zeros((horizon + 1, S))
    Q = np.zeros((horizon, S, A))
    for t in range(horizon - 1, -1, -1):
        Q[t] = r + gamma * P @ V[t + 1]
        V[t] = Q[t].max(axis=1)
    return Q, V[:-1]


def random_mdp_arrays(rng, n_states, n_actions, deterministic=False, sparsity=0.0):
    """P (S, A, S), r (S, A), p0 (S,) with optional zeros in P."""
    if deterministic:
        P = np.zeros((n_states, n_actions, n_states))
        nxt = rng.integers(n_states, size=(n_states, n_actions))
        P[np.arange(n_states)[:, None], np.arange(n_actions)[None, :], nxt] = 1.0
    else:
        P = rng.dirichlet(np.ones(n_states), size=(n_states, n_actions))
        if sparsity:
            P[rng.random(P.shape) < sparsity] = 0.0
            keep = rng.integers(n_states, size=(n_states, n_actions))
            P[np.arange(n_states)[:, None], np.arange(n_actions)[None, :], keep] += 0.1
            P /= P.sum(axis=2, keepdims=True)
    r = rng.normal(size=(n_states, n_actions))
    p0 = rng.dirichlet(np.ones(n_states))
    return P, r, p0


def log_posterior(P, r, p0, horizon, temperature=1.0, prior=None):
    """:func:`posterior` computed in log space, for temperatures where exp(r/α) overflows.

    Each trajectory's log-weight is ``log p(τ) + Σ_t r(s_t, a_t)/α (+ log prior)``;
    marginals are ratios of log-sum-exps, so nothing under- or overflows.
    Returns log p(O), p(s_t | O), p(s_t, a_t | O), p(s_t | O_{0:t-1}).
    """
    S, A = r.shape
    with np.errstate(divide="ignore"):
        log_prior = np.zeros((S, A)) if prior is None else np.log(prior)
    logs, trajs = [], []
    for states, actions in all_trajectories(S, A, horizon):
        dyn = dynamics_probability(P, p0, states, actions)
        if dyn == 0:
            continue
        step = np.array([r[states[t], actions[t]] / temperature + log_prior[states[t], actions[t]]
                         for t in range(horizon)])
        if np.any(step == -np.inf):
            continue
        logs.append(np.log(dyn) + step.sum())
        trajs.append((states, actions))
    logs = np.array(logs)
    log_z = np.logaddexp.reduce(logs)
    weights = np.exp(logs - log_z)
    state = np.zeros((horizon, S))
    state_action = np.zeros((horizon, S, A))
    for w, (states, actions) in zip(weights, trajs):
        state[np.arange(horizon), states] += w
        state_action[np.arange(horizon), states, actions] += w
    # Forward messages: p(s_t | O_{0:t-1}) ∝ Σ over distinct prefixes (s_0..s_t, a_0..a_{t-1}).
    forward = np.zeros((horizon, S))
    for t in range(horizon):
        seen = {}
        for k, (states, actions) in enumerate(trajs):
            key = (tuple(states[:t + 1]), tuple(actions[:t]))
            if key not in seen:
                # The prefix's dynamics only: drop the later transitions' probabilities.
                dyn = p0[states[0]] * np.prod([P[states[i], actions[i], states[i + 1]]
                                               for i in range(t)])
                step = sum(r[states[i], actions[i]] / temperature + log_prior[states[i], actions[i]]
                           for i in range(t))
                seen[key] = (states[t], np.log(dyn) + step)
        by_state = np.full(S, -np.inf)
        for s, lw in seen.values():
            by_state[s] = np.logaddexp(by_state[s], lw)
        forward[t] = np.exp(by_state - np.logaddexp.reduce(by_state))
    return log_z, state, state_action, forward
