package run

import (
	"context"
	"errors"
)

// ExitCode gives the tests the command line's exit status of a run error
// (0 pass, 4 invalid plan, 5 expectations failed, 6 infrastructure error,
// 7 interrupted), so they read like the documented behaviour. The mapping
// itself belongs to cmd/nomosrun; this copy exists only for the tests.
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
