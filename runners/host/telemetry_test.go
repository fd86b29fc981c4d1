package host

import (
	"slices"
	"testing"

	"github.com/nomosrun/nomosrun/internal/env"
)

func TestOTLPLoopbackEndpoints(t *testing.T) {
	a := env.Var{Name: "NOMOSRUN_TEST_OTLP_A"}
	b := env.Var{Name: "NOMOSRUN_TEST_OTLP_B"}
	c := env.Var{Name: "NOMOSRUN_TEST_OTLP_C"}
	for _, tc := range []struct {
		a, b, c string
		want    []string
	}{
		{"", "", "", nil},
		{"http://localhost:4318", "http://127.0.0.1:4318/v1/metrics", "", []string{"127.0.0.1:4318"}},
		{"127.0.0.2:9000", "http://[::1]:4318", "http://localhost/otlp", []string{"127.0.0.2:9000", "[::1]:4318", "127.0.0.1:80"}},
		{"http://collector:4318", "http://10.0.0.1:4318", "https://localhost", []string{"127.0.0.1:443"}},
		{"http://localhost:notaport", "::", "", nil},
	} {
		t.Setenv(a.Name, tc.a)
		t.Setenv(b.Name, tc.b)
		t.Setenv(c.Name, tc.c)
		var got []string
		for _, ap := range loopbackEndpoints([]env.Var{a, b, c}) {
			got = append(got, ap.String())
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("%q %q %q: got %v, want %v", tc.a, tc.b, tc.c, got, tc.want)
		}
	}
}
