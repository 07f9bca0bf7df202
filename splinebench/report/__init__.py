"""Reports: the paper's tables and figures, built from the store.

* ``tables`` — one run's Table 2 grid for ``runs show`` and the dashboard (``result_grid``, ``rich_table``);
* ``collect`` — runs read from the store and pooled into settings (same profile, different seeds);
* ``paper_tables`` — Tables 1, 2, 12, early-bird epochs, cost ratios and the rho ablation, mean ± std over seeds;
* ``render`` — Markdown, CSV, LaTeX, JSON and rich renderings of those tables;
* ``figures`` — Fig. 5 (distance matrix), per-layer distances, accuracy vs MACs with the Pareto front, Fig. 7;
* ``partition`` and ``terminal`` — the 2-D input-space partition per layer with the decision boundary (Figs. 1, 2,
  6), as matplotlib figures and as braille in the terminal;
* ``build`` — everything above for ``splinebench report``.

Only ``partition`` needs torch (it evaluates models); the rest reads the store.
"""
