# %% [markdown]
# # 18. Score your own agent: ordinary RL against the exact oracle
#
# The oracle is not only for ctrlinf's own agents. Anything that learns a Q table or a
# policy on a small discrete world can be scored exactly: your own tabular Q-learning,
# or a Stable-Baselines3 DQN or PPO trained on `ci.envs.to_gymnasium(mdp)`.
#
# Ordinary RL maximises the expected discounted return, with no entropy term, so the
# reference is the oracle at **temperature 0**: the hard Bellman solution $Q^*$, $V^*$
# (Sutton & Barto 2018, eq. 3.20). A stationary agent with discount γ solves the
# infinite-horizon problem with that γ, whatever the episode length, as long as it
# bootstraps through time limits: its oracle is `Oracle.stationary(mdp, gamma)`, whose
# temperature is 0 by default (for a Stable-Baselines3 model, `Oracle.for_model(mdp, model)`).

# %%
import matplotlib.pyplot as plt
import numpy as np

import ctrlinf as ci
from _common import save_figure

#: Bounds for the SB3 runs below. Measured over seeds 0-3: DQN return gap <= 0.029,
#: PPO normalised return gap (stochastic policy) <= 0.38; the bounds leave a margin.
DQN_GAP_BOUND = 0.1
PPO_NORMALISED_GAP_BOUND = 0.6

try:            # the SB3 part needs torch==2.13.0 (CPU) and the optional extra, see below
    import torch
    import stable_baselines3 as sb3_library
except ImportError:
    sb3_library = None

# %% [markdown]
# ## The world and its oracle
#
# A 3x4 grid with a wall, a goal (+1 per step, absorbing) and a pit (−1 per step,
# absorbing); moves slip with probability 0.1; episodes start on any open cell and
# are truncated after 20 steps. The agent's discount is γ = 0.9.

# %%
grid = ci.envs.gridworld((3, 4), walls=[(1, 1)], goals=[(0, 3)], pits=[(1, 3)], slip=0.1,
                         horizon=20)
GAMMA = 0.9
oracle = ci.bridge.Oracle.stationary(grid, gamma=GAMMA)     # temperature 0, the default
best = oracle.compare_policy(oracle.policy)
print(f"optimal expected return {best.optimal_return:.3f}, uniform policy "
      f"{best.uniform_return:.3f}")
print(f"decision states (reachable from p0): {int(oracle.decision_states.sum())} "
      f"of {grid.n_states} (the wall cell is never entered)")
assert oracle.decision_states.sum() == grid.n_states - 1 and not oracle.decision_states[5]

# %% [markdown]
# ## A student's Q-learning
#
# Twenty lines, the textbook algorithm (Watkins 1989): ε-greedy actions, the target
# $r + γ \max_{a'} Q(s', a')$, a step size $1/n(s,a)^{0.7}$ that decays by visit count
# (Robbins–Monro). The one line that matters for the comparison: the bootstrap is
# dropped only on `terminated`, never on `truncated`.

# %%
def q_learning(env, steps, gamma=GAMMA, epsilon=0.2, seed=0, truncation_is_termination=False):
    rng = np.random.default_rng(seed)
    S, A = env.observation_space.n, env.action_space.n
    Q, visits = np.zeros((S, A)), np.zeros((S, A))
    s, _ = env.reset(seed=seed)
    for _ in range(steps):
        a = int(rng.integers(A)) if rng.random() < epsilon else int(np.argmax(Q[s]))
        s_next, r, terminated, truncated, _ = env.step(a)
        end = terminated or (truncated and truncation_is_termination)
        target = r if end else r + gamma * Q[s_next].max()
        visits[s, a] += 1
        Q[s, a] += (target - Q[s, a]) / visits[s, a] ** 0.7
        s = env.reset()[0] if terminated or truncated else s_next
    return Q


Q = q_learning(ci.envs.to_gymnasium(grid, seed=0), 40_000)
q_report = oracle.compare_q(Q)
greedy = np.eye(grid.n_actions)[Q.argmax(axis=1)]
policy_report = oracle.compare_policy(greedy)
print("Q-learning, 40 000 steps:", q_report, "greedy policy:", policy_report, sep="\n")
assert q_report.weighted_abs_error < 0.1
assert q_report.max_abs_error > 10 * q_report.weighted_abs_error
assert policy_report.return_gap < 0.05 and policy_report.optimal_action_fraction > 0.95

# %% [markdown]
# The largest error sits on a pair the agent rarely tries (ε-greedy visits bad actions
# seldom, and a step size that decays by visit count moves them slowly); the
# occupancy-weighted error, over the pairs the optimal policy actually uses, is what the
# agent's behaviour depends on. For a near-deterministic policy read the return gap,
# the advantage loss $\sum_s d^\pi(s)\,(V^*(s) - Q^*(s, \pi(s)))$ and the fraction of
# optimal actions; they are exact here, with $\text{return gap} = \text{advantage loss}/(1-γ)$.

# %%
assert abs(policy_report.return_gap - policy_report.advantage_loss / (1 - GAMMA)) < 1e-9

# %% [markdown]
# ## Pitfall: truncation is not termination
#
# The 20-step limit is the environment's, not the MDP's. An agent that treats
# `truncated` like `terminated` drops the bootstrap at every time limit and learns the
# value of a world that ends, not the stationary $Q^*$ its discount defines.

# %%
Q_wrong = q_learning(ci.envs.to_gymnasium(grid, seed=0), 40_000, truncation_is_termination=True)
wrong = oracle.compare_q(Q_wrong)
print(f"truncation read as termination: occupancy-weighted |Q − Q*| = "
      f"{wrong.weighted_abs_error:.2f}, {wrong.weighted_abs_error / q_report.weighted_abs_error:.0f}x "
      "the correct agent's")
assert wrong.weighted_abs_error > 20 * q_report.weighted_abs_error

# %% [markdown]
# ## Stable-Baselines3: DQN and PPO
#
# `ci.bridge.sb3` reads what a model learned on every state at once: `q_table(model)`
# for DQN, `policy_array(model, kind="stochastic" | "greedy")` for any model, and
# `value_table(model)` for PPO's critic. `Oracle.for_model(mdp, model)` reads γ from
# the model, and `OracleCallback` records the oracle's report during training. Torch
# runs on one thread: these networks are tiny, and a thread pool only adds waiting.
#
# PPO's `ent_coef` is **not** the temperature α of MaxEnt RL: it weighs the mean policy
# entropy in PPO's loss, next to advantages that SB3 normalises per batch, so it has no
# reward units; α does. PPO maximises the return, and the temperature-0 oracle scores it.
# Below, α is in reward units: scale the rewards by 10 and the soft-optimal policy at
# the same α changes, while the hard optimum keeps its actions.

# %%
scaled = grid.replace(r=10 * grid.r)
soft = ci.bridge.Oracle.stationary(grid, GAMMA, temperature=1.0)
soft_scaled = ci.bridge.Oracle.stationary(scaled, GAMMA, temperature=1.0)
entropy = soft.compare_policy(soft.policy).mean_entropy
entropy_scaled = soft_scaled.compare_policy(soft_scaled.policy).mean_entropy
print(f"soft-optimal policy at α = 1: mean entropy {entropy:.2f} nats; with rewards x10 "
      f"it drops to {entropy_scaled:.2f} nats; the hard optimum keeps its actions")
hard_scaled = ci.bridge.Oracle.stationary(scaled, GAMMA, temperature=0.0)
assert entropy - entropy_scaled > 0.2
assert np.array_equal(hard_scaled.optimal_actions, oracle.optimal_actions)

# %%
curves = None
if sb3_library is None:
    print("stable-baselines3 is not installed: skipped the SB3 part "
          '(pip install torch==2.13.0, then pip install -e ".[sb3]")')
else:
    from stable_baselines3 import DQN, PPO

    torch.set_num_threads(1)
    dqn = DQN("MlpPolicy", ci.envs.to_gymnasium(grid, seed=0), gamma=GAMMA,
              learning_starts=500, exploration_fraction=0.3, target_update_interval=250,
              train_freq=1, learning_rate=1e-3, seed=0, policy_kwargs=dict(net_arch=[64, 64]))
    dqn_oracle = ci.bridge.Oracle.for_model(grid, dqn)
    dqn_curve = ci.bridge.sb3.OracleCallback(dqn_oracle, every=500)
    dqn.learn(4000, callback=dqn_curve)
    dqn_report = dqn_oracle.compare_policy(ci.bridge.sb3.policy_array(dqn, "greedy"))
    dqn_q = dqn_oracle.compare_q(ci.bridge.sb3.q_table(dqn))
    print(f"DQN, 4000 steps: greedy return gap {dqn_report.return_gap:.4f}, "
          f"occupancy-weighted |Q − Q*| = {dqn_q.weighted_abs_error:.2f}")
    assert dqn_oracle.mdp.gamma == GAMMA and dqn_report.return_gap < DQN_GAP_BOUND

    ppo = PPO("MlpPolicy", ci.envs.to_gymnasium(grid, seed=0), gamma=GAMMA, n_steps=512,
              batch_size=64, seed=0)
    ppo_oracle = ci.bridge.Oracle.for_model(grid, ppo)
    ppo_curve = ci.bridge.sb3.OracleCallback(ppo_oracle, every=512, kind="stochastic")
    ppo.learn(4096, callback=ppo_curve)
    pi = ci.bridge.sb3.policy_array(ppo)
    ppo_report = ppo_oracle.compare_policy(pi)
    critic = ppo_oracle.compare_v(ci.bridge.sb3.value_table(ppo), pi=pi)
    print(f"PPO, 4096 steps: return gap {ppo_report.return_gap:.3f} "
          f"(uniform policy {ppo_report.optimal_return - ppo_report.uniform_return:.3f}), "
          f"critic max |V − V^π| = {critic.max_abs_error:.2f}")
    assert ppo_report.normalised_return_gap < PPO_NORMALISED_GAP_BOUND
    curves = dqn_curve.history, ppo_curve.history

# %% [markdown]
# ## Pictures
#
# Left: where Q-learning's Q is off (largest error over actions, per state; the worst
# cell circled). Right: the return gap during training, measured exactly by the
# oracle at every record.

# %%
fig, axes = plt.subplots(1, 2, figsize=(10, 3.4), layout="constrained")
ci.plot.error_map(grid, q_report.state_error, ax=axes[0], label="max_a |Q − Q*|",
                  title="tabular Q-learning, 40 000 steps")
if curves is None:
    axes[1].text(0.5, 0.5, "SB3 not installed", ha="center", va="center")
    axes[1].set_axis_off()
else:
    for history, name in zip(curves, ("DQN (greedy)", "PPO (stochastic)")):
        ci.plot.error_curves({"step": history["step"], name: history["return_gap"]},
                             ax=axes[1])
    axes[1].set_ylabel("return gap (exact)")
save_figure(fig, "18_score_your_agent")

# %% [markdown]
# ## What you saw
#
# - Ordinary RL is scored with the temperature-0 oracle: hard $Q^*$, expected returns,
#   no entropy term; a stationary discounted agent with `Oracle.stationary` (or
#   `Oracle.for_model`, which reads γ from the model).
# - Max errors are dominated by pairs an agent rarely tries; occupancy-weighted errors,
#   the return gap and the advantage loss measure what matters for its behaviour, and
#   only reachable states are compared by default.
# - Reading truncation as termination learns another Q; SB3 bootstraps through time
#   limits, so its DQN and PPO are compared with the stationary oracle.
# - `ent_coef` is a loss weight, α a reward-unit temperature: PPO is scored at α = 0.
