package run

import (
	"context"
	"errors"
	"fmt"
)

// Kind classifies a run error for exit codes.
type Kind int

// The error kinds.
const (
	// KindInfrastructure: deploy, readiness, workload or fault failures —
	// the run could not be carried out as planned (exit code 6).
	KindInfrastructure Kind = iota + 1
	// KindExpectations: the run completed and expectations failed (5).
	KindExpectations
	// KindInterrupted: the run was cancelled (7).
	KindInterrupted
	// KindInvalid: the plan cannot be executed (4).
	KindInvalid
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

// ExitCode maps a run error to the CLI exit code: 0 pass, 4 invalid plan,
// 5 expectations failed, 6 infrastructure error, 7 interrupted.
func ExitCode(err error) int {
	if err == nil {
		return 0
	}
	var re *Error
	if errors.As(err, &re) {
		switch re.Kind {
		case KindExpectations:
			return 5
		case KindInterrupted:
			return 7
		case KindInvalid:
			return 4
		}
		return 6
	}
	if errors.Is(err, context.Canceled) {
		return 7
	}
	return 6
}

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
