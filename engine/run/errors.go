package run

import "fmt"

// Kind classifies a run error; the command line maps each kind to its
// exit code.
type Kind int

// The error kinds.
const (
	// KindInfrastructure: deploy, readiness, workload or fault failures —
	// the run could not be carried out as planned.
	KindInfrastructure Kind = iota + 1
	// KindExpectations: the run completed and expectations failed.
	KindExpectations
	// KindInterrupted: the run was cancelled.
	KindInterrupted
	// KindInvalid: the plan cannot be executed.
	KindInvalid
	// KindScript: a run-time hook failed (a Starlark error or fail()).
	KindScript
)

// String names the kind.
func (k Kind) String() string {
	switch k {
	case KindInfrastructure:
		return "infrastructure error"
	case KindExpectations:
		return "expectations failed"
	case KindInterrupted:
		return "interrupted"
	case KindInvalid:
		return "invalid plan"
	case KindScript:
		return "script error"
	}
	return "error"
}

// Error is a run failure in a phase.
type Error struct {
	Phase Phase
	Kind  Kind
	Err   error
}

// Error prefixes the cause with the phase (expectation failures stand alone).
func (e *Error) Error() string {
	if e.Kind == KindExpectations {
		return e.Err.Error()
	}
	return fmt.Sprintf("%s: %v", e.Phase, e.Err)
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// ExpectationsError lists every failed expectation.
type ExpectationsError struct {
	// Failures are "id name: message" lines.
	Failures []string
}

// Error lists the failures, one per line.
func (e *ExpectationsError) Error() string {
	s := "expectations failed:"
	for _, f := range e.Failures {
		s += "\n" + f
	}
	return s
}
