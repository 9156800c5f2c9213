// Package run owns one statectl run: a Session holds the per-run
// resources (the roster read once, one Incus connection pool, one state
// renderer, the module registry, the run's secrets) and computes, per
// target, the immutable stage values grains -> pillar -> compiled states
// -> result. Every command (apply, plan, apply --plan, watch, render,
// pillar, grains) is a thin view over a Session; none of them rebuilds the
// pipeline.
//
// A Session is for one run: a watch pass opens its own, so no connection
// or remembered answer outlives the pass that made it.
package run
