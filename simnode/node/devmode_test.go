package node

import (
	"strings"
	"testing"
)

func TestDevModeFromEnvIsABoolean(t *testing.T) {
	for _, tc := range []struct {
		value string
		on    bool
	}{
		{"", false}, {"true", true}, {"1", true}, {"TRUE", true}, {"t", true},
		{"false", false}, {"0", false}, {"False", false},
	} {
		t.Setenv(DevModeEnv, tc.value)
		on, err := DevModeFromEnv()
		if err != nil || on != tc.on {
			t.Errorf("%s=%q: %v %v, want %v", DevModeEnv, tc.value, on, err, tc.on)
		}
	}
	for _, bad := range []string{"yes", "on", " true", "2"} {
		t.Setenv(DevModeEnv, bad)
		_, err := DevModeFromEnv()
		if err == nil || !strings.Contains(err.Error(), DevModeEnv) || !strings.Contains(err.Error(), `"`+bad+`"`) {
			t.Errorf("%s=%q: error %v, want one naming the variable and the value", DevModeEnv, bad, err)
		}
	}
}
