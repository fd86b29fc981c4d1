// Package plan holds the Plan: the validated, deterministic description of a
// scenario that every runner executes.
//
// A Plan is plain Go data. It imports neither Starlark nor any runner, marshals
// to stable JSON (slices in script order, sequential ids, sorted maps) and
// records the one seed from which every random choice of a run is drawn.
package plan
