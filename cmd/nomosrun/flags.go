package main

import (
	"flag"
	"fmt"
	"io"
	"strings"
)

// aliasValue is a second name for another flag: a short form (-v for
// --verbose) or a deprecated name kept working. Help and completion show
// an alias on its target's line only, never as a flag of its own.
type aliasValue struct {
	flag.Value
	target     string
	deprecated bool
	warn       io.Writer // where using a deprecated alias is reported
	name       string
}

func (v *aliasValue) Set(s string) error {
	if v.deprecated && v.warn != nil {
		fmt.Fprintf(v.warn, "nomosrun: warning: --%s is deprecated; use --%s\n", v.name, v.target)
	}
	return v.Value.Set(s)
}

// IsBoolFlag lets a boolean flag's alias go without a value too.
func (v *aliasValue) IsBoolFlag() bool {
	b, ok := v.Value.(interface{ IsBoolFlag() bool })
	return ok && b.IsBoolFlag()
}

// shortAlias declares the one-letter short form of flag target.
func shortAlias(fs *flag.FlagSet, short, target string) {
	t := fs.Lookup(target)
	fs.Var(&aliasValue{Value: t.Value, target: target, name: short}, short, t.Usage)
}

// deprecatedAlias keeps the old name of flag target working; using it
// prints a warning on warn.
func deprecatedAlias(fs *flag.FlagSet, old, target string, warn io.Writer) {
	t := fs.Lookup(target)
	fs.Var(&aliasValue{Value: t.Value, target: target, name: old, deprecated: true, warn: warn}, old, t.Usage)
}

// isAlias reports whether f is an alias rather than a flag of its own.
func isAlias(f *flag.Flag) bool {
	_, ok := f.Value.(*aliasValue)
	return ok
}

// dashes is how a flag is written: -o for one letter, --name otherwise.
func dashes(name string) string {
	if len(name) == 1 {
		return "-" + name
	}
	return "--" + name
}

// printFlags prints the flags of fs, GNU-style, sorted by name: each
// flag's short form and value, then its usage, default and deprecated
// names on the next line.
func printFlags(w io.Writer, fs *flag.FlagSet) {
	shorts := map[string]string{}
	olds := map[string][]string{}
	fs.VisitAll(func(f *flag.Flag) {
		if a, ok := f.Value.(*aliasValue); ok {
			if a.deprecated {
				olds[a.target] = append(olds[a.target], dashes(f.Name))
			} else {
				shorts[a.target] = dashes(f.Name)
			}
		}
	})
	fs.VisitAll(func(f *flag.Flag) {
		if isAlias(f) {
			return
		}
		value, usage := flag.UnquoteUsage(f)
		line := "  " + dashes(f.Name)
		if s, ok := shorts[f.Name]; ok {
			line = "  " + s + ", " + dashes(f.Name)
		}
		if value != "" {
			line += " " + value
		}
		if !zeroDefault(f.DefValue) {
			usage += fmt.Sprintf(" (default %s)", f.DefValue)
		}
		if o := olds[f.Name]; len(o) > 0 {
			usage += fmt.Sprintf(" (%s: deprecated name, still accepted)", strings.Join(o, ", "))
		}
		fmt.Fprintf(w, "%s\n      %s\n", line, usage)
	})
}

func zeroDefault(v string) bool {
	switch v {
	case "", "0", "0s", "false", "[]", "map[]":
		return true
	}
	return false
}

// flagsOf returns the flag sets command c declares, one per subcommand if
// it has any, without running it.
func flagsOf(c *command) []*flag.FlagSet {
	subs := c.subcommands
	if len(subs) == 0 {
		subs = []string{""}
	}
	var sets []*flag.FlagSet
	a := &app{stdout: io.Discard, stderr: io.Discard}
	for _, sub := range subs {
		fs := a.newFlags(c)
		if c.flags != nil {
			c.flags(a, c, sub, fs)
		}
		sets = append(sets, fs)
	}
	return sets
}
