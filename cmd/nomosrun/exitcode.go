package main

import (
	"context"
	"errors"

	"github.com/nomosrun/nomosrun/engine/plan"
	"github.com/nomosrun/nomosrun/engine/run"
	"github.com/nomosrun/nomosrun/starlib"
)

// ExitCode is the process exit status of nomosrun (design §4).
type ExitCode int

// The exit codes.
const (
	ExitOK             ExitCode = 0
	ExitUsage          ExitCode = 2
	ExitScript         ExitCode = 3
	ExitInvalidPlan    ExitCode = 4
	ExitExpectations   ExitCode = 5
	ExitInfrastructure ExitCode = 6
	ExitInterrupted    ExitCode = 7
)

// exitError carries the exit code a command chose for its error.
type exitError struct {
	code ExitCode
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// withCode marks err with an exit code.
func withCode(code ExitCode, err error) error {
	if err == nil {
		return nil
	}
	return &exitError{code: code, err: err}
}

// usageError marks err as a command-line mistake (exit 2).
func usageError(err error) error { return withCode(ExitUsage, err) }

// codeOf maps an error to its exit code, the one place that does so: an
// explicit code first, then the error types of each phase (a run error by
// its kind); anything else is an infrastructure error.
func codeOf(err error) ExitCode {
	var ee *exitError
	var se *starlib.ScriptError
	var ue *starlib.UsageError
	var pe *plan.PlanError
	var re *run.Error
	switch {
	case err == nil:
		return ExitOK
	case errors.As(err, &ee):
		return ee.code
	case errors.As(err, &re):
		return runKindCode(re.Kind)
	case errors.Is(err, context.Canceled):
		return ExitInterrupted
	case errors.As(err, &ue):
		return ExitUsage
	case errors.As(err, &se):
		return ExitScript
	case errors.As(err, &pe):
		return ExitInvalidPlan
	}
	return ExitInfrastructure
}

// runKindCode is the exit code of a run error of kind k.
func runKindCode(k run.Kind) ExitCode {
	switch k {
	case run.KindExpectations:
		return ExitExpectations
	case run.KindInterrupted:
		return ExitInterrupted
	case run.KindInvalid:
		return ExitInvalidPlan
	case run.KindScript:
		return ExitScript
	}
	return ExitInfrastructure
}
