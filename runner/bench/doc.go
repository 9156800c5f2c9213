// Package bench holds the whole-pipeline benchmarks of statectl and the
// helpers they share: generated state trees (a 1,000-state require chain,
// 1,000 states over 50 files sharing a map.jinja), a file-open counter and
// a child-process runner that reports peak memory. The figures are
// recorded in docs/benchmarks.md; `make bench` reproduces them.
//
// The per-stage benchmarks live next to their stage (render, compile,
// engine); the ones here run statectl as a user does: cli.Main (in
// process, or as a separate statectl process for peak RSS) against files
// on disk, and, for Incus, against a real 3-member lab.
package bench
