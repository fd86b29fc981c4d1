package owner

import (
	"os"
	"os/exec"
	"strconv"
	"testing"
)

func TestLive(t *testing.T) {
	if !Live(Self()) {
		t.Errorf("this process (%s) is not live", Self())
	}
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	host, _ := os.Hostname()
	for _, o := range []string{host + ":" + strconv.Itoa(cmd.Process.Pid), "elsewhere:1", "nonsense", "", host + ":0", host + ":x", host + ":999999999"} {
		if Live(o) {
			t.Errorf("%q is live", o)
		}
	}
}
