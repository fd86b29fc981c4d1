package run

import "errors"

// KindOf gives the tests the kind of a run error: zero for nil or for an
// error that is no *Error. cmd/nomosrun maps kinds to exit codes.
func KindOf(err error) Kind {
	var re *Error
	if errors.As(err, &re) {
		return re.Kind
	}
	return 0
}
