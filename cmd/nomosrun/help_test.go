package main

import (
	"bytes"
	"flag"
	"io"
	"regexp"
	"strings"
	"testing"
)

// Every flag of every command is in the command's help and in both
// completion scripts: all three read the flag sets the commands declare.
func TestHelpAndCompletionListEveryFlag(t *testing.T) {
	_, bash, _ := nomosrun(t, "completion", "bash")
	_, zsh, _ := nomosrun(t, "completion", "zsh")
	if !strings.Contains(bash, "complete -o filenames -F _nomosrun nomosrun") || !strings.HasPrefix(zsh, "#compdef nomosrun") {
		t.Fatalf("completion scripts look wrong:\n%s\n%s", bash, zsh)
	}
	for _, c := range commands {
		if c.hidden {
			continue
		}
		code, help, errOut := nomosrun(t, "help", c.name)
		if code != ExitOK {
			t.Fatalf("help %s: exit %d: %s", c.name, code, errOut)
		}
		if !regexp.MustCompile(`(?m)^\s+`+c.name+`\)$`).MatchString(bash) || !strings.Contains(zsh, "'"+c.name+":") {
			t.Errorf("command %s missing from a completion script", c.name)
		}
		// The command's case in the bash script: its flags="..." line.
		m := regexp.MustCompile(`(?m)^\s+` + c.name + `\)\n\s+flags="([^"]*)"`).FindStringSubmatch(bash)
		if m == nil {
			t.Fatalf("no flags of %s in the bash completion", c.name)
		}
		bashFlags := " " + m[1] + " "
		n := 0
		for _, fs := range flagsOf(c) {
			fs.VisitAll(func(f *flag.Flag) {
				if isAlias(f) {
					return
				}
				n++
				name := dashes(f.Name)
				if !regexp.MustCompile(`(?m)^  (-., )?` + regexp.QuoteMeta(name) + `( |$)`).MatchString(help) {
					t.Errorf("help %s does not list %s:\n%s", c.name, name, help)
				}
				if !strings.Contains(bashFlags, " "+name+" ") {
					t.Errorf("bash completion of %s lacks %s", c.name, name)
				}
				if !strings.Contains(zsh, "'"+name+"[") && !strings.Contains(zsh, "'"+name+"=[") && !strings.Contains(zsh, "'*"+name+"=[") {
					t.Errorf("zsh completion of %s lacks %s", c.name, name)
				}
			})
		}
		if n == 0 {
			t.Errorf("%s: no flags found; flagsOf cannot read its flag set", c.name)
		}
	}
	for _, r := range []string{"host", "compose", "k8s"} {
		if !strings.Contains(bash, r) || !strings.Contains(zsh, "runner:(") || !strings.Contains(zsh, r) {
			t.Errorf("runner %s not completed", r)
		}
	}
	if !strings.Contains(bash, `'!*.star'`) || !strings.Contains(zsh, `"*.star"`) {
		t.Error("scenario files (.star) are not completed")
	}
}

// singleDashLong is a long flag written with one dash, as Go's flag
// package prints them: -keep-on-failure rather than --keep-on-failure.
var singleDashLong = regexp.MustCompile(`(^|[\s\[(|,])-[a-zA-Z][a-zA-Z0-9-]+`)

func TestHelpWritesLongFlagsWithTwoDashes(t *testing.T) {
	outputs := map[string]string{}
	_, out, _ := nomosrun(t, "help")
	outputs["help"] = out
	for _, c := range commands {
		if c.hidden {
			continue
		}
		_, out, _ := nomosrun(t, "help", c.name)
		outputs["help "+c.name] = out
		args := []string{c.name, "--help"}
		if len(c.subcommands) > 0 {
			args = []string{c.name, c.subcommands[0], "--help"}
		}
		code, _, errOut := nomosrun(t, args...)
		if code != ExitOK || !strings.Contains(errOut, "usage: nomosrun "+c.name) {
			t.Errorf("%v: exit %d, stderr:\n%s", args, code, errOut)
		}
		outputs[strings.Join(args, " ")] = errOut
	}
	for what, out := range outputs {
		if m := singleDashLong.FindString(out); m != "" {
			t.Errorf("%s prints %q, a long flag with one dash:\n%s", what, strings.TrimSpace(m), out)
		}
	}
}

func TestDeprecatedRunDirAlias(t *testing.T) {
	for _, c := range []*command{runCmd, matrixCmd} {
		fs := flagsOf(c)[0]
		var warn bytes.Buffer
		fs.Lookup("report-dir").Value.(*aliasValue).warn = &warn
		fs.SetOutput(io.Discard)
		if err := fs.Parse([]string{"--report-dir", "out"}); err != nil {
			t.Fatal(err)
		}
		if got := fs.Lookup("run-dir").Value.String(); got != "out" || !strings.Contains(warn.String(), "--report-dir is deprecated; use --run-dir") {
			t.Errorf("%s --report-dir out: run-dir %q, warning %q", c.name, got, warn.String())
		}
		_, help, _ := nomosrun(t, "help", c.name)
		if strings.Contains(help, "  --report-dir") || !strings.Contains(help, "--report-dir: deprecated name, still accepted") {
			t.Errorf("help %s should mention --report-dir as deprecated only:\n%s", c.name, help)
		}
	}
}

func TestVerboseIsAFlag(t *testing.T) {
	bad := write(t, "bad.star", "topology(validators = 1)\nkill(at = \"zz\", nodes = [\"validator-0\"])\nrun(\"1s\")\n")
	for _, args := range [][]string{
		{"-v", "plan", bad}, {"--verbose", "plan", bad}, {"plan", bad, "-v"}, {"plan", "--verbose", bad}, {bad, "-v"},
	} {
		code, _, errOut := nomosrun(t, args...)
		if code != ExitScript || !strings.Contains(errOut, "Traceback") || !strings.Contains(errOut, "Error in kill: for parameter") {
			t.Errorf("%v: exit %d, want %d with a backtrace:\n%s", args, code, ExitScript, errOut)
		}
	}
	code, _, errOut := nomosrun(t, "plan", bad)
	if code != ExitScript || strings.Contains(errOut, "Traceback") || !strings.Contains(errOut, `kill: for parameter "at"`) {
		t.Errorf("plan without -v: exit %d:\n%s", code, errOut)
	}
	if code, _, errOut := nomosrun(t, "--bogus", "plan", bad); code != ExitUsage || !strings.Contains(errOut, "not defined: --bogus") {
		t.Errorf("an unknown global flag: exit %d, want %d:\n%s", code, ExitUsage, errOut)
	}
	if code, _, errOut := nomosrun(t, "plan", bad, "--runner"); code != ExitUsage || !strings.HasSuffix(errOut, "plan: flag needs an argument: --runner\n") {
		t.Errorf("a flag without its value: exit %d, want %d:\n%s", code, ExitUsage, errOut)
	}
}
