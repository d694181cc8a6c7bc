"""`ctrlinf explore`: the page is one self-contained file, its numbers are ctrlinf's, its
caption is true, and in a real (headless) browser the controls redraw the picture."""
import html
import json
import os
import re
import subprocess
import sys

import numpy as np
import pytest

import ctrlinf as ci
from ctrlinf import cli
from ctrlinf.cli import _worlds
from ctrlinf.explore import _page as explore_page
from ctrlinf.explore._screenshot import chromium_driver, missing_browser

#: A stored number has 4 significant digits: off by at most half a unit in the 4th digit.
RTOL = 5.001e-4
#: Slippery cliff: start, a row of pits, a goal; small enough for every test here.
MAP = ["S....", ".#...", "....G", "XXXXX"]
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def slippery(slip=0.2, horizon=8):
    return ci.envs.gridworld_from_map(MAP, slip=slip, horizon=horizon,
                                      rewards={".": -0.05, "S": -0.05})


def embedded(path):
    """The JSON the page carries, as the page's script reads it."""
    text = open(path, encoding="utf-8").read()
    match = re.search(r'<script type="application/json" id="ctrlinf-data">(.*?)</script>',
                      text, re.S)
    return json.loads(match.group(1))


def shaped(values, mdp, *extra):
    return np.reshape(values, (mdp.horizon, mdp.n_states) + extra)


@pytest.fixture(scope="module")
def world():
    return slippery()


@pytest.fixture(scope="module")
def written(world, tmp_path_factory):
    path = ci.explore.page(world, tmp_path_factory.mktemp("explore") / "page.html")
    return path, embedded(path)


# -- the file ------------------------------------------------------------------
def test_page_is_one_self_contained_file(written):
    path, _ = written
    text = path.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>") and text.count("<html") == 1
    assert "http://" not in text and "https://" not in text and "//cdn" not in text
    assert not re.search(r"\bsrc\s*=", text), "no external scripts, images or frames"
    assert re.findall(r'href="([^"]*)"', text) == ["data:,"]   # the empty favicon only
    for network in ("fetch(", "XMLHttpRequest", "import(", "WebSocket", "@import"):
        assert network not in text


def test_ten_by_ten_page_stays_under_two_megabytes(tmp_path):
    grid = _worlds.gridworld_spec("gridworld:10x10")
    K = len(ci.explore.default_temperatures(grid))
    stored = grid.n_states * grid.horizon * (2 * K + 1)
    assert stored == 45_600 <= ci.explore.MAX_VALUES       # the MAX_VALUES comment
    path = ci.explore.page(grid, tmp_path / "ten.html")
    assert path.stat().st_size < 2_000_000


def test_caption_is_on_the_page(written):
    path, data = written
    text = path.read_text(encoding="utf-8")
    for sentence in explore_page.CAPTION:
        assert html.escape(sentence) in text
    assert data["caption"] == list(explore_page.CAPTION)


# -- the numbers are ctrlinf's -------------------------------------------------
def test_embedded_numbers_are_exact_solves_at_each_temperature(world, written):
    _, data = written
    T, S, A = world.horizon, world.n_states, world.n_actions
    assert data["shape"] == list(world.shape) and data["horizon"] == T and data["n_states"] == S
    assert data["temperatures"] == list(ci.explore.default_temperatures(world))
    assert [a["name"] for a in data["actions"]] == list(world.action_names)
    assert data["starts"] == [world.state(0, 0)]
    assert data["pits"] == list(range(15, 20)) and data["goals"] == [world.state(2, 4)]
    assert data["walls"] == [world.state(1, 1)]
    for alpha, exact_entry, soft_entry in zip(data["temperatures"], data["modes"]["exact"],
                                              data["modes"]["soft"]):
        assert exact_entry["temperature"] == soft_entry["temperature"] == alpha
        exact = ci.solve(world, mode="exact", temperature=alpha)
        expected = {"forward": ci.forward(world, exact),
                    "backward": exact.backward_messages()[1],
                    "posterior": ci.marginals(world, exact)[0], "V": exact.V}
        for key, value in expected.items():
            np.testing.assert_allclose(shaped(exact_entry[key], world), value, rtol=RTOL,
                                       atol=0, err_msg=f"exact {key}, α = {alpha}")
        soft = ci.solve(world, mode="soft", temperature=alpha)
        np.testing.assert_allclose(shaped(soft_entry["occupancy"], world),
                                   ci.forward(world, soft), rtol=RTOL, atol=0)
        np.testing.assert_allclose(shaped(soft_entry["occupancy"], world),
                                   ci.marginals(world, soft)[0], rtol=RTOL, atol=0)
        np.testing.assert_allclose(shaped(soft_entry["V"], world), soft.V, rtol=RTOL, atol=0)
        for entry, sol in ((exact_entry, exact), (soft_entry, soft)):
            # Policies in thousandths: within half a thousandth.
            policy = shaped(entry["policy"], world, A) / data["policy_scale"]
            np.testing.assert_allclose(policy, sol.policy, rtol=0, atol=0.5e-3 + 1e-12)
    hard = ci.solve(world, mode="hard")
    (hard_entry,) = data["modes"]["hard"]
    np.testing.assert_allclose(shaped(hard_entry["occupancy"], world), ci.marginals(world, hard)[0],
                               rtol=RTOL, atol=0)
    np.testing.assert_allclose(shaped(hard_entry["V"], world), hard.V, rtol=RTOL, atol=0)


def test_numbers_keep_four_significant_digits():
    numbers = explore_page._Numbers(np.array([1.23456e-7, -0.0, 19.3849, 1e-300, 123456.0, -2.5]))
    assert numbers.json() == "[1.235e-7,0,19.38,1e-300,1.235e5,-2.5]"
    assert json.loads(numbers.json())[0] == 1.235e-7
    assert explore_page._Policy(np.array([0.12349, 0.0004, 0.99951])).json() == "[123,0,1000]"


# -- the caption, sentence by sentence -----------------------------------------
def test_caption_exact_panels_are_forward_backward_and_their_normalised_product(world, written):
    """Sentence 1: α_t = p(s_t | O_0:t-1), β_t scaled to max 1 each step, posterior ∝ α β."""
    _, data = written
    for alpha, entry in zip(data["temperatures"], data["modes"]["exact"]):
        forward, backward = shaped(entry["forward"], world), shaped(entry["backward"], world)
        posterior = shaped(entry["posterior"], world)
        np.testing.assert_allclose(forward[0], world.p0)                # α_0 = p0
        np.testing.assert_allclose(backward.max(axis=1), 1.0)           # largest β is 1
        V = ci.solve(world, mode="exact", temperature=alpha).V
        np.testing.assert_allclose(backward, np.exp((V - V.max(axis=1, keepdims=True)) / alpha),
                                   rtol=RTOL, atol=0)                   # β = exp(V / α) / max
        # The product in log space, log α_t + V_t / α: the scaled β underflows to 0 at low α.
        with np.errstate(divide="ignore"):
            log_product = np.log(forward) + V / alpha
        product = np.exp(log_product - log_product.max(axis=1, keepdims=True))
        np.testing.assert_allclose(posterior, product / product.sum(axis=1, keepdims=True),
                                   rtol=3 * RTOL, atol=1e-300)


def test_caption_exact_is_optimistic_values_and_posterior(world):
    """Sentence 2: V_exact >= V_soft (Jensen), and with slip the exact posterior is not the
    occupancy of the exact policy (without slip it is: the optimism comes from the dice)."""
    for alpha in ci.explore.default_temperatures(world):
        exact = ci.solve(world, mode="exact", temperature=alpha)
        soft = ci.solve(world, mode="soft", temperature=alpha)
        assert np.all(exact.V >= soft.V - 1e-9 * np.abs(soft.V).max())
    for slip, apart in ((0.2, True), (0.1, True), (0.0, False)):
        grid = slippery(slip=slip)
        exact = ci.solve(grid, mode="exact", temperature=0.3)
        gap = np.abs(ci.marginals(grid, exact)[0] - ci.occupancy(grid, exact.policy)).max()
        assert (gap > 0.05) if apart else (gap < 1e-9), (slip, gap)


def test_caption_soft_panels_are_the_occupancy_of_its_policy(world, written):
    """Sentence 3: soft stores one occupancy (drawn in the forward and the marginal panel),
    the real dynamics rolled out from the start under its own policy."""
    _, data = written
    for alpha, entry in zip(data["temperatures"], data["modes"]["soft"]):
        assert set(entry) == {"temperature", "occupancy", "V", "policy"}
        soft = ci.solve(world, mode="soft", temperature=alpha)
        occupancy = shaped(entry["occupancy"], world)
        np.testing.assert_allclose(occupancy, ci.occupancy(world, soft.policy), rtol=RTOL, atol=0)
        np.testing.assert_allclose(occupancy[0], world.p0)
    script = open(os.path.join(os.path.dirname(explore_page.__file__), "_template.py"),
                  encoding="utf-8").read()
    rollout = script[script.index("const rollout"):script.index("const PANELS")]
    assert rollout.count('key: "occupancy"') == 2 and 'key: "V"' in rollout
    assert 'soft: rollout("soft"' in script and 'hard: rollout("hard"' in script


def test_caption_hard_has_no_temperature_and_splits_among_the_best_moves(world, written):
    """Sentence 4."""
    _, data = written
    (entry,) = data["modes"]["hard"]
    assert entry["temperature"] is None
    Q = ci.solve(world, mode="hard").Q
    best = np.isclose(Q, Q.max(axis=2, keepdims=True), rtol=0, atol=1e-12)
    expected = best / best.sum(axis=2, keepdims=True)
    policy = shaped(entry["policy"], world, world.n_actions) / data["policy_scale"]
    np.testing.assert_allclose(policy, expected, atol=0.5e-3 + 1e-12)
    assert best.sum(axis=2).max() > 1      # some states really have ties to split


def test_caption_temperatures_run_from_near_hard_to_near_uniform(world):
    """Sentence 5 and the default_temperatures docstring: at the lowest default α soft values
    are within α T log A of hard ones; at the highest every policy probability is within a
    factor exp(0.1) of the others, in both modes."""
    alphas = ci.explore.default_temperatures(world)
    assert np.all(np.diff(alphas) > 0) and len(alphas) == explore_page.N_TEMPERATURES
    T, A = world.horizon, world.n_actions
    spread = np.ptp(world.r)
    low = ci.solve(world, mode="soft", temperature=alphas[0]).V
    hard = ci.solve(world, mode="hard").V
    gap = low - hard
    assert gap.min() >= -1e-12 and gap.max() <= alphas[0] * T * np.log(A) * (1 + 1e-9)
    assert alphas[0] * T * np.log(A) <= spread * np.log(A) / 100 * 1.01
    for mode in ("exact", "soft"):
        policy = ci.solve(world, mode=mode, temperature=alphas[-1]).policy
        assert policy.max() / policy.min() < np.exp(0.1)
        assert np.abs(policy - 1 / A).max() < 0.03


def test_default_temperatures_example_values():
    grid = ci.envs.gridworld((3, 3), goals=[(2, 2)], horizon=9)
    spread, T = np.ptp(grid.r), 9
    alphas = ci.explore.default_temperatures(grid, n=3)
    low, high = spread / (100 * T), 10 * (T + 1) * spread
    np.testing.assert_allclose(alphas, [low, np.sqrt(low * high), high], rtol=5e-3)


# -- errors --------------------------------------------------------------------
@pytest.mark.parametrize("make, error, message", [
    (lambda g: ci.TabularMDP(g.P, g.r, g.p0, horizon=5), TypeError, "must be a GridMDP"),
    (lambda g: "gridworld", TypeError, "must be a GridMDP"),
    (lambda g: g.replace(horizon=None, gamma=0.9), ValueError, "finite horizon"),
    (lambda g: g.replace(gamma=0.9), ValueError, "needs gamma=1"),
])
def test_page_rejects_worlds_it_cannot_draw(make, error, message, world, tmp_path):
    with pytest.raises(error, match=message):
        ci.explore.page(make(world), tmp_path / "p.html")
    assert not (tmp_path / "p.html").exists()


@pytest.mark.parametrize("temperatures, error, message", [
    ([], ValueError, "temperatures is empty"),
    ([[1.0, 2.0]], ValueError, r"temperatures has shape \(1, 2\), expected \(n,\)"),
    ([1.0, -1.0], ValueError, r"temperatures\[1\] must be a positive finite number, got -1"),
    ([np.nan], ValueError, r"temperatures\[0\] must be a positive finite number, got nan"),
    ([1e-320], ValueError, r"temperatures\[0\]=.* is below the smallest normal float"),
    ([0.5, 2.0, 0.5], ValueError, "repeated value"),
    ("1,2", TypeError, "temperatures must be an array of real numbers"),
    ([1.0, "hot"], TypeError, "temperatures must be an array of real numbers"),
])
def test_page_rejects_bad_temperatures(temperatures, error, message, world, tmp_path):
    with pytest.raises(error, match=message):
        ci.explore.page(world, tmp_path / "p.html", temperatures=temperatures)


def test_page_rejects_bad_path_title_and_n(world):
    with pytest.raises(TypeError, match="path must be a str or os.PathLike, got int"):
        ci.explore.page(world, 3)
    with pytest.raises(TypeError, match="title must be a str"):
        ci.explore.page(world, "p.html", title=7)
    with pytest.raises(ValueError, match="n must be an int >= 2, got 1"):
        ci.explore.default_temperatures(world, n=1)
    with pytest.raises(TypeError, match="n must be an int >= 2, got 2.0"):
        ci.explore.default_temperatures(world, n=2.0)


def test_too_large_world_says_the_limit(tmp_path):
    grid = ci.envs.gridworld((20, 20), goals=[(19, 19)], horizon=10)
    with pytest.raises(ValueError, match=r"too large to embed: .*400 \* 10 \* 19 = 76,000 .*"
                                         r"limit 50,000"):
        ci.explore.page(grid, tmp_path / "p.html")
    ci.explore.page(grid, tmp_path / "p.html", temperatures=[0.5, 1.0])   # 400*10*5 fits


def test_non_finite_results_are_refused():
    with pytest.raises(ValueError, match="not finite"):
        explore_page._Numbers([0.0, np.inf])


# -- the command ---------------------------------------------------------------
def test_cli_writes_the_page_of_the_world_solve_would_load(tmp_path, capsys):
    out = tmp_path / "page.html"
    assert cli.main(["explore", "gridworld:4x5", "--out", str(out)]) == 0
    line = capsys.readouterr().out
    grid = _worlds.load_world("gridworld:4x5", None, None)
    alphas = ci.explore.default_temperatures(grid)
    assert line == (f"wrote {out} ({out.stat().st_size / 1e6:.2f} MB): T = {grid.horizon}, "
                    f"{len(alphas)} temperatures from {alphas[0]:g} to {alphas[-1]:g}\n")
    reference = ci.explore.page(grid, tmp_path / "reference.html")
    assert embedded(out) == embedded(reference)
    assert "gridworld:4x5" in out.read_text(encoding="utf-8")     # the title


def test_cli_map_file_npz_horizon_and_temperatures(tmp_path, capsys):
    (tmp_path / "maze.txt").write_text("S..#\n.#.G\n")
    grid = ci.envs.gridworld_from_map(["S..#", ".#.G"])
    grid.save(tmp_path / "maze.npz")
    for world in ("maze.txt", "maze.npz"):
        out = tmp_path / f"{world}.html"
        assert cli.main(["explore", str(tmp_path / world), "--out", str(out), "--horizon", "6",
                         "--temperatures", "0.5,0.1,2"]) == 0
        assert "T = 6, 3 temperatures from 0.1 to 2" in capsys.readouterr().out
        data = embedded(out)
        assert data["horizon"] == 6 and data["temperatures"] == [0.1, 0.5, 2.0]


def test_cli_runs_as_a_command(tmp_path):
    out = tmp_path / "page.html"
    result = subprocess.run([sys.executable, "-m", "ctrlinf", "explore", "gridworld:3x3",
                             "--out", str(out)], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("\n") == 1 and result.stdout.startswith(f"wrote {out}")


@pytest.mark.parametrize("args, message", [
    (["marsworld", "--out", "{tmp}/p.html"], "unknown world 'marsworld'"),
    (["gridworld:4x4", "--out", "{tmp}/missing/p.html"], "cannot write"),
    (["gridworld:4x4", "--out", "{tmp}"], "cannot write"),
    (["gridworld:40x40", "--out", "{tmp}/p.html"], "too large to embed"),
    (["{tmp}/plain.npz", "--out", "{tmp}/p.html"],
     "plain.npz is a TabularMDP without cells; the page draws grid worlds: give a map "
     "file, gridworld:ROWSxCOLS, frozenlake or a GridMDP saved by its .save"),
])
def test_cli_user_errors_print_one_line_and_exit_2(args, message, tmp_path, capsys):
    plain = ci.TabularMDP(np.ones((2, 1, 2)) / 2, np.zeros(2), [1.0, 0.0], horizon=3)
    plain.save(tmp_path / "plain.npz")
    argv = ["explore"] + [a.replace("{tmp}", str(tmp_path)) for a in args]
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err and err.startswith("ctrlinf explore: error:")
    assert not (tmp_path / "p.html").exists()


def test_frozenlake_page(tmp_path, capsys):
    pytest.importorskip("gymnasium")
    out = tmp_path / "lake.html"
    assert cli.main(["explore", "frozenlake", "--out", str(out), "--horizon", "20"]) == 0
    data = embedded(out)
    assert data["shape"] == [4, 4] and data["n_states"] == 17    # plus the episode-over state


# -- the screenshot in the README ------------------------------------------------
def test_readme_section_runs_and_shows_the_screenshot(tmp_path, capsys, monkeypatch):
    path = os.path.join(REPO, "figures", "explore.png")
    assert 5_000 < os.path.getsize(path) < 200_000
    readme = open(os.path.join(REPO, "README.md"), encoding="utf-8").read()
    section = readme[readme.index("## An interactive page for a lecture"):]
    section = section[:section.index("\n## ")]
    assert "](figures/explore.png)" in section
    command, call = re.findall(r"```(?:bash|python)\n(.*?)\n```", section, re.S)
    monkeypatch.chdir(tmp_path)
    argv = command.split("#")[0].split()
    assert argv[0] == "ctrlinf" and cli.main(argv[1:]) == 0
    assert (tmp_path / "page.html").stat().st_size > 10_000
    # The README tour's grid, then the call as printed.
    grid = ci.envs.gridworld_from_map(["S..#....", ".#.#.##.", "...X...G"], slip=0.1,
                                      horizon=30)
    assert "ci.envs.gridworld_from_map([\"S..#....\"," in readme
    exec(call.split("#")[0], {"ci": ci, "grid": grid})
    assert embedded(tmp_path / "page.html")["temperatures"] == [0.1, 0.3, 1.0]


# -- in a browser --------------------------------------------------------------
@pytest.fixture(scope="module")
def browser():
    missing = missing_browser()
    if missing:
        pytest.skip(f"the browser test needs {' and '.join(missing)} on PATH "
                    f"(Debian: apt-get install chromium chromium-driver)")
    driver = chromium_driver()
    yield driver
    driver.quit()


def _pictures(driver):
    return driver.execute_script(
        "return [0, 1, 2, 3].map(i => document.getElementById('panel-' + i).toDataURL());")


def _errors(driver):
    return [entry for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]


def _hover(driver, mdp, row, col):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By

    canvas = driver.find_element(By.ID, "panel-2")
    rows, cols = mdp.shape
    cell = canvas.size["width"] / cols
    # Offsets are from the element's centre in selenium 4.
    ActionChains(driver).move_to_element_with_offset(
        canvas, int((col + 0.5 - cols / 2) * cell), int((row + 0.5 - rows / 2) * cell)).perform()
    return driver.find_element(By.ID, "tooltip")


def test_browser_controls_redraw_and_hover_shows_the_posterior(browser, world, written):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    path, data = written
    browser.get(path.resolve().as_uri())
    assert _errors(browser) == []
    assert browser.find_element(By.ID, "caption").text.startswith("Exact mode is inference")
    t_slider = browser.find_element(By.ID, "t")
    a_slider = browser.find_element(By.ID, "temperature")
    assert t_slider.get_attribute("max") == str(world.horizon - 1)
    assert a_slider.get_attribute("max") == str(len(data["temperatures"]) - 1)

    before = _pictures(browser)
    t_slider.send_keys(Keys.ARROW_RIGHT)
    assert t_slider.get_attribute("value") == "1"
    after_t = _pictures(browser)
    assert after_t[0] != before[0] and after_t[2] != before[2]     # α_1 != α_0, posterior moves

    a_slider.send_keys(Keys.ARROW_RIGHT)
    after_a = _pictures(browser)
    assert after_a[1] != after_t[1] and after_a[2] != after_t[2]   # β and posterior change with α
    temperature = data["temperatures"][int(a_slider.get_attribute("value"))]
    assert f"τ = {temperature}" in browser.find_element(By.ID, "temperature-value").text

    browser.find_element(By.ID, "log-scale").click()
    after_log = _pictures(browser)
    assert after_log[1] != after_a[1] and after_log[0] != after_a[0]
    browser.find_element(By.ID, "log-scale").click()
    assert _pictures(browser) == after_a

    browser.find_element(By.CSS_SELECTOR, "input[value=soft]").click()
    after_soft = _pictures(browser)
    assert after_soft[1] != after_a[1] and after_soft[2] != after_a[2]
    assert "occupancy" in browser.find_element(By.ID, "title-0").text
    assert "marginal" in browser.find_element(By.ID, "title-2").text
    browser.find_element(By.CSS_SELECTOR, "input[value=hard]").click()
    assert _pictures(browser) != after_soft
    assert not a_slider.is_enabled()
    assert "no temperature" in browser.find_element(By.ID, "temperature-value").text

    # The displayed posterior of a cell equals ci.marginals to the digits shown.
    browser.find_element(By.CSS_SELECTOR, "input[value=exact]").click()
    for _ in range(3):
        t_slider.send_keys(Keys.ARROW_RIGHT)
    t = int(t_slider.get_attribute("value"))
    assert t == 4
    alpha = data["temperatures"][int(a_slider.get_attribute("value"))]
    exact = ci.solve(world, mode="exact", temperature=alpha)
    posterior = ci.marginals(world, exact)[0]
    for row, col in ((0, 2), (2, 0), (3, 0), (2, 3)):     # (2, 3) is 5 moves away: 0 at t = 4
        tip = _hover(browser, world, row, col)
        assert tip.is_displayed()
        s = world.state(row, col)
        assert tip.get_attribute("data-state") == str(s) and tip.get_attribute("data-t") == str(t)
        shown = tip.get_attribute("data-marginal")
        assert f"posterior = {shown}" in tip.text
        assert float(shown) == pytest.approx(posterior[t, s], rel=RTOL, abs=0)
        digits = shown.replace(".", "").split("e")[0].lstrip("0")
        assert len(digits) == 4 or (shown == "0" and posterior[t, s] == 0.0)
    # ... and in soft mode the occupancy.
    browser.find_element(By.CSS_SELECTOR, "input[value=soft]").click()
    tip = _hover(browser, world, 2, 3)
    soft = ci.solve(world, mode="soft", temperature=alpha)
    shown = tip.get_attribute("data-marginal")
    assert float(shown) == pytest.approx(ci.marginals(world, soft)[0][t, world.state(2, 3)],
                                         rel=RTOL, abs=0)
    assert _errors(browser) == []


def test_browser_screenshot_recipe(browser, tmp_path):
    from ctrlinf.explore import _screenshot

    png = tmp_path / "explore.png"
    _screenshot.main(png)
    assert 5_000 < png.stat().st_size < 200_000


def test_browser_scale_reports_the_largest_cell_and_the_mass_off_the_grid(browser, tmp_path):
    """FrozenLake has an "episode over" state after its 16 cells; the page reports its mass."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    gymnasium = pytest.importorskip("gymnasium")
    lake = ci.envs.from_gymnasium(gymnasium.make("FrozenLake-v1"), horizon=12)
    assert lake.n_states == lake.n_cells + 1 and not lake.walls.any()
    path = ci.explore.page(lake, tmp_path / "lake.html", temperatures=[0.3])
    browser.get(path.resolve().as_uri())
    browser.find_element(By.ID, "t").send_keys(Keys.END)
    t = lake.horizon - 1
    exact = ci.solve(lake, mode="exact", temperature=0.3)
    for panel, values in ((0, ci.forward(lake, exact)[t]), (2, ci.marginals(lake, exact)[0][t])):
        text = browser.find_element(By.ID, f"scale-{panel}").text
        largest, off = re.fullmatch(r"largest cell (\S+) \(colour: square root\) · "
                                    r"off the grid (\S+)", text).groups()
        assert float(largest) == pytest.approx(values[:lake.n_cells].max(), rel=RTOL)
        assert float(off) == pytest.approx(values[lake.n_cells:].sum(), rel=RTOL)
        assert float(off) > 0.01
    assert _errors(browser) == []


# -- issue 18: the title is text, the path is checked first; issue 19: τ, not α ---------
WEIRD_TITLES = ["%%DATA%%", "%%TITLE%% %%CAPTION%%", "</script><script>alert(1)</script>",
                "a \"quoted\" 'title' & <b>bold</b>", "ünïcode τ α_t"]


@pytest.mark.parametrize("title", WEIRD_TITLES)
def test_any_title_is_shown_as_text_and_never_fills_a_placeholder(title, tmp_path):
    grid = ci.envs.gridworld_from_map(["S.", ".G"], horizon=3)
    path = ci.explore.page(grid, tmp_path / "p.html", temperatures=[1.0], title=title)
    text = path.read_text(encoding="utf-8")
    assert text.count('"shape":') == 1 and text.count("<script") == 2     # one data block
    assert text.count(f"<span>{html.escape(explore_page.CAPTION[0])}</span>") == 1
    assert f"<title>ctrlinf explore: {html.escape(title)}</title>" in text
    assert f"<h1>Forward, backward and posterior messages: {html.escape(title)}</h1>" in text
    assert "%%" not in text.replace(html.escape(title), "")
    assert embedded(path)["shape"] == [2, 2]


def test_placeholders_in_the_template_are_each_filled_once():
    from ctrlinf.explore._template import TEMPLATE

    assert sorted(re.findall(r"%%(\w+)%%", TEMPLATE)) == ["CAPTION", "DATA", "TITLE", "TITLE"]


@pytest.mark.parametrize("where, message", [
    ("{tmp}", "it is a directory"),
    ("{tmp}/missing/p.html", "does not exist"),
    ("/proc/no/such/p.html", "cannot write there"),
    ("{tmp}/a\0b.html", "NUL byte"),
    ("{tmp}/a_file/p.html", "does not exist"),
    ("", "path is empty"),
])
def test_an_unwritable_path_is_refused_before_any_solve(where, message, world, tmp_path,
                                                        monkeypatch):
    (tmp_path / "a_file").write_text("x")

    def refuse(*args, **kwargs):
        raise AssertionError("solved before checking the path")

    monkeypatch.setattr(ci, "solve", refuse)
    with pytest.raises(ValueError, match=re.escape(message)) as error:
        ci.explore.page(world, where.replace("{tmp}", str(tmp_path)))
    assert str(error.value).startswith("path")


@pytest.mark.parametrize("out, message", [
    ("{tmp}/a\0b.html", "--out '{tmp}/a\\x00b.html': cannot write there, a path cannot "
                        "contain a NUL byte"),
    ("{tmp}/a_file/p.html", "does not exist"),
    ("/proc/p.html", "cannot write there"),
])
def test_cli_refuses_an_unwritable_out_before_any_solve(out, message, tmp_path, capsys,
                                                        monkeypatch):
    (tmp_path / "a_file").write_text("x")
    monkeypatch.setattr(ci, "solve", lambda *a, **k: pytest.fail("solved first"))
    assert cli.main(["explore", "gridworld:3x3", "--out", out.replace("{tmp}", str(tmp_path))]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message.replace("{tmp}", str(tmp_path)) in err


def _decoded(text):
    """The page's text with the script's \\uXXXX escapes written out."""
    return re.sub(r"\\u([0-9a-fA-F]{4})", lambda m: chr(int(m.group(1), 16)), text)


def test_alpha_is_only_the_forward_message_and_the_temperature_is_tau(written):
    """Issue 19: the page named the temperature α above the forward message α_t."""
    path, _ = written
    text = _decoded(path.read_text(encoding="utf-8"))
    assert "α" in text and not re.search("α(?!_t)", text)
    assert '"τ = " + sol.temperature' in text
    assert "τ the temperature" in text and "temperature τ falls" in text


# -- issue 18 item 1 / cross-layer: every number is the core's at any temperature -------
def chain():
    """P[0,0,1] = P[0,1,2] = 1, states 1 and 2 absorbing, r[0,1] = −1, r[2,:] = 10, T = 3, as
    a 1x3 grid (action 0 moves right, action 1 jumps two cells)."""
    from ctrlinf.envs.grid import GridMDP

    P = np.zeros((3, 2, 3))
    P[0, 0, 1] = P[0, 1, 2] = 1.0
    P[1, :, 1] = P[2, :, 2] = 1.0
    r = np.zeros((3, 2))
    r[0, 1], r[2, :] = -1.0, 10.0
    return GridMDP(P, r, [1.0, 0.0, 0.0], horizon=3, shape=(1, 3),
                   action_deltas=[(0, 1), (0, 2)], action_names=["right", "jump"])


@pytest.mark.parametrize("temperature", [1.0, 1e-2, 1e-3])
def test_page_numbers_are_the_cores_and_enumerations_at_every_temperature(temperature,
                                                                         tmp_path):
    import enumeration

    mdp = chain()
    data = embedded(ci.explore.page(mdp, tmp_path / "p.html", temperatures=[temperature]))
    (entry,) = data["modes"]["exact"]
    sol = ci.solve(mdp, mode="exact", temperature=temperature)
    _, beta, _ = sol.backward_messages()
    core = {"forward": ci.forward(mdp, sol), "posterior": ci.marginals(mdp, sol)[0],
            "backward": beta, "V": sol.V}
    for key, value in core.items():
        np.testing.assert_allclose(shaped(entry[key], mdp), value, rtol=RTOL, atol=0,
                                   err_msg=key)
    policy = shaped(entry["policy"], mdp, 2) / data["policy_scale"]
    np.testing.assert_allclose(policy, sol.policy, atol=0.5e-3 + 1e-12)
    # An independent reference: every trajectory's weight, in log space.
    _, posterior, _, forward = enumeration.log_posterior(mdp.transition_tensor(), mdp.r,
                                                         mdp.p0, 3, temperature)
    np.testing.assert_allclose(shaped(entry["posterior"], mdp), posterior, rtol=RTOL,
                               atol=1e-300)
    np.testing.assert_allclose(shaped(entry["forward"], mdp), forward, rtol=RTOL, atol=1e-300)
    if temperature == 1e-3:
        # The posterior at t = 1 is on state 2 (the +10 state), though α_1 is on state 1.
        assert shaped(entry["posterior"], mdp)[1].tolist() == [0, 0, 1]
        assert shaped(entry["forward"], mdp)[1].tolist() == [0, 1, 0]
    (soft,) = data["modes"]["soft"]
    soft_sol = ci.solve(mdp, mode="soft", temperature=temperature)
    np.testing.assert_allclose(shaped(soft["occupancy"], mdp), ci.marginals(mdp, soft_sol)[0],
                               rtol=RTOL, atol=0)
    np.testing.assert_allclose(shaped(soft["V"], mdp), soft_sol.V, rtol=RTOL, atol=0)


def test_browser_shows_the_posterior_of_the_core_at_low_temperature(browser, tmp_path):
    """At temperature 1e-3 the hovered posterior at t = 1 is 1 on the +10 state, 0 on the other."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    mdp = chain()
    path = ci.explore.page(mdp, tmp_path / "chain.html", temperatures=[1e-3])
    browser.get(path.resolve().as_uri())
    browser.find_element(By.ID, "t").send_keys(Keys.ARROW_RIGHT)
    shown = {}
    for col in (1, 2):
        tip = _hover(browser, mdp, 0, col)
        assert tip.get_attribute("data-t") == "1"
        shown[col] = tip.get_attribute("data-marginal")
    assert shown == {1: "0", 2: "1.000"}
    assert "forward α_t = 1.000" in _hover(browser, mdp, 0, 1).text
    assert browser.find_element(By.ID, "temperature-value").text.startswith("τ = 0.001")
    assert _errors(browser) == []


@pytest.mark.parametrize("title", WEIRD_TITLES)
def test_browser_shows_a_weird_title_as_written(browser, title, tmp_path):
    from selenium.webdriver.common.by import By

    grid = ci.envs.gridworld_from_map(["S.", ".G"], horizon=3)
    path = ci.explore.page(grid, tmp_path / "p.html", temperatures=[1.0], title=title)
    browser.get(path.resolve().as_uri())
    assert browser.title == f"ctrlinf explore: {title}"
    assert browser.find_element(By.TAG_NAME, "h1").text == (
        f"Forward, backward and posterior messages: {title}")
    assert browser.execute_script("return document.scripts.length") == 2
    assert _errors(browser) == []
