package nodeapi

import (
	"fmt"
	"strconv"
)

// DevModeEnv is the environment variable of the proof-of-leadership dev
// mode: with it on, nodes skip generating and verifying real proofs.
const DevModeEnv = "POL_PROOF_DEV_MODE"

// ParseDevMode reads a DevModeEnv value as a boolean (strconv.ParseBool:
// "true"/"1" on, "false"/"0" off); empty is off, anything else an error
// naming the variable and the value. The node and the pre-run checks read
// it the same way.
func ParseDevMode(v string) (bool, error) {
	if v == "" {
		return false, nil
	}
	on, err := strconv.ParseBool(v)
	if err != nil {
		return false, fmt.Errorf("environment variable %s=%q is not a boolean (want true, false, 1 or 0)", DevModeEnv, v)
	}
	return on, nil
}
