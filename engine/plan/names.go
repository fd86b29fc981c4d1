package plan

import (
	"fmt"
	"strconv"
)

// DefaultName is the readable name of an expectation the script did not
// name: its kind and main arguments, as a reader of the report needs them
// to know what was checked ("liveness(tolerance=0.8, lag=2)",
// "metric max(cryptarchia_lib_height) >= 5").
func DefaultName(e Expectation) string {
	num := func(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }
	switch e.Kind {
	case ExpectLiveness:
		if e.MaxStall > 0 {
			return fmt.Sprintf("liveness(tolerance=%s, lag=%d, max_stall=%s)", num(e.Tolerance), e.Lag, num(e.MaxStall))
		}
		return fmt.Sprintf("liveness(tolerance=%s, lag=%d)", num(e.Tolerance), e.Lag)
	case ExpectTxInclusion, ExpectDAInclusion:
		return fmt.Sprintf("%s(min_ratio=%s)", e.Kind, num(e.MinRatio))
	case ExpectMetric:
		return fmt.Sprintf("metric %s %s %s", e.Query, e.Op, num(e.Value))
	case ExpectLog:
		return fmt.Sprintf("log %s /%s/", e.Targets, e.Pattern)
	case ExpectCustom:
		return "custom " + e.Func
	}
	return string(e.Kind)
}
